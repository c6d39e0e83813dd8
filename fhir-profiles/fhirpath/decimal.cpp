#include "fhir-profiles/fhirpath/decimal.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace fhirbridge::fhirpath {

namespace {

// 10^38 is the largest power of ten below 2^127: every mantissa stays under it.
constexpr int kMaxDigits = 38;

__int128 Pow10(int n) {
  __int128 p = 1;
  for (int i = 0; i < n; ++i) p *= 10;
  return p;
}

__int128 Limit() { return Pow10(kMaxDigits); }

bool Fits(__int128 v) { return v < Limit() && v > -Limit(); }

// a / b rounded as asked (b > 0).
__int128 DivideRounded(__int128 a, __int128 b, Decimal::Rounding mode) {
  __int128 q = a / b;
  __int128 r = a % b;
  if (r == 0) return q;
  switch (mode) {
    case Decimal::Rounding::kTowardZero:
      return q;
    case Decimal::Rounding::kFloor:
      return a < 0 ? q - 1 : q;
    case Decimal::Rounding::kCeiling:
      return a > 0 ? q + 1 : q;
    case Decimal::Rounding::kHalfAwayFromZero: {
      __int128 twice = (r < 0 ? -r : r) * 2;
      if (twice >= b) return a < 0 ? q - 1 : q + 1;
      return q;
    }
  }
  return q;
}

}  // namespace

std::optional<Decimal> Decimal::Parse(std::string_view text) {
  size_t i = 0;
  bool negative = false;
  if (i < text.size() && (text[i] == '-' || text[i] == '+')) negative = text[i++] == '-';
  __int128 mantissa = 0;
  int scale = 0;
  int digits = 0;
  auto take_digits = [&](bool fraction) {
    size_t start = i;
    for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
      if (digits > 0 || text[i] != '0') ++digits;
      mantissa = mantissa * 10 + (text[i] - '0');
      if (fraction) ++scale;
      if (digits > kMaxDigits) return false;
    }
    return i > start;
  };
  if (!take_digits(false)) return std::nullopt;
  if (i < text.size() && text[i] == '.') {
    ++i;
    if (!take_digits(true)) return std::nullopt;
  }
  if (i < text.size()) {
    if (text[i] != 'e' && text[i] != 'E') return std::nullopt;
    char* end = nullptr;
    std::string exp(text.substr(i + 1));
    long e = std::strtol(exp.c_str(), &end, 10);
    if (exp.empty() || *end != '\0' || e > kMaxDigits || e < -kMaxDigits) return std::nullopt;
    scale -= static_cast<int>(e);
    while (scale < 0) {
      mantissa *= 10;
      ++scale;
      if (!Fits(mantissa)) return std::nullopt;
    }
  }
  if (scale > kMaxDigits) return std::nullopt;
  return Decimal(negative ? -mantissa : mantissa, scale);
}

std::optional<Decimal> Decimal::FromDouble(double value) {
  if (!std::isfinite(value)) return std::nullopt;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.15g", value);
  std::optional<Decimal> d = Parse(buf);
  if (!d) return d;
  if (d->scale_ > kMaxScale) return d->Rescale(kMaxScale, Rounding::kHalfAwayFromZero);
  return d;
}

std::string Decimal::ToString() const {
  __int128 m = mantissa_ < 0 ? -mantissa_ : mantissa_;
  std::string digits;
  do {
    digits.insert(digits.begin(), static_cast<char>('0' + static_cast<int>(m % 10)));
    m /= 10;
  } while (m != 0);
  while (static_cast<int>(digits.size()) <= scale_) digits.insert(digits.begin(), '0');
  if (scale_ > 0) digits.insert(digits.end() - scale_, '.');
  if (mantissa_ < 0 || negative_zero_) digits.insert(digits.begin(), '-');
  return digits;
}

double Decimal::ToDouble() const { return std::strtod(ToString().c_str(), nullptr); }

std::optional<int64_t> Decimal::ToInteger() const {
  Decimal n = Normalized();
  if (n.scale_ != 0) return std::nullopt;
  if (n.mantissa_ > INT64_MAX || n.mantissa_ < INT64_MIN) return std::nullopt;
  return static_cast<int64_t>(n.mantissa_);
}

std::optional<__int128> Decimal::Widened(int scale) const {
  __int128 m = mantissa_;
  for (int s = scale_; s < scale; ++s) {
    m *= 10;
    if (!Fits(m)) return std::nullopt;
  }
  return m;
}

std::optional<Decimal> Decimal::Add(const Decimal& other) const {
  int scale = std::max(scale_, other.scale_);
  auto a = Widened(scale);
  auto b = other.Widened(scale);
  if (!a || !b) return std::nullopt;
  __int128 sum = *a + *b;
  if (!Fits(sum)) return std::nullopt;
  return Decimal(sum, scale);
}

std::optional<Decimal> Decimal::Multiply(const Decimal& other) const {
  Decimal a = Normalized();
  Decimal b = other.Normalized();
  __int128 limit = Limit();
  __int128 abs_a = a.mantissa_ < 0 ? -a.mantissa_ : a.mantissa_;
  __int128 abs_b = b.mantissa_ < 0 ? -b.mantissa_ : b.mantissa_;
  if (abs_a != 0 && abs_b > limit / abs_a) return std::nullopt;
  Decimal product(a.mantissa_ * b.mantissa_, a.scale_ + b.scale_);
  // Keep the written scale of the operands (1.2 * 1.8 = 2.16; 2.0 * 2.0 = 4.00).
  int scale = std::min(scale_ + other.scale_, kMaxScale);
  if (product.scale_ > scale) return product.Rescale(scale, Rounding::kHalfAwayFromZero);
  auto m = product.Widened(scale);
  if (!m) return product;
  return Decimal(*m, scale);
}

std::optional<Decimal> Decimal::Divide(const Decimal& other) const {
  if (other.mantissa_ == 0) return std::nullopt;
  // Scale the dividend so the quotient has kDivisionScale digits after the point.
  int target = kDivisionScale;
  int shift = target + other.scale_ - scale_;
  __int128 a = mantissa_;
  __int128 b = other.mantissa_;
  if (b < 0) {
    a = -a;
    b = -b;
  }
  while (shift > 0) {
    a *= 10;
    --shift;
    if (!Fits(a)) return std::nullopt;
  }
  while (shift < 0) {
    b *= 10;
    ++shift;
    if (!Fits(b)) return std::nullopt;
  }
  return Decimal(DivideRounded(a, b, Rounding::kHalfAwayFromZero), target).Normalized();
}

std::optional<Decimal> Decimal::IntegerDivide(const Decimal& other) const {
  if (other.mantissa_ == 0) return std::nullopt;
  int scale = std::max(scale_, other.scale_);
  auto a = Widened(scale);
  auto b = other.Widened(scale);
  if (!a || !b) return std::nullopt;
  return Decimal(*a / *b, 0);
}

std::optional<Decimal> Decimal::Modulo(const Decimal& other) const {
  if (other.mantissa_ == 0) return std::nullopt;
  int scale = std::max(scale_, other.scale_);
  auto a = Widened(scale);
  auto b = other.Widened(scale);
  if (!a || !b) return std::nullopt;
  return Decimal(*a % *b, scale);
}

Decimal Decimal::Rescale(int digits, Rounding mode) const {
  if (digits >= scale_) {
    auto m = Widened(digits);
    return m ? Decimal(*m, digits) : *this;
  }
  return Decimal(DivideRounded(mantissa_, Pow10(scale_ - digits), mode), digits);
}

Decimal Decimal::Normalized() const {
  Decimal d = *this;
  while (d.scale_ > 0 && d.mantissa_ % 10 == 0) {
    d.mantissa_ /= 10;
    --d.scale_;
  }
  return d;
}

int Decimal::Compare(const Decimal& other) const {
  Decimal a = Normalized();
  Decimal b = other.Normalized();
  int scale = std::max(a.scale_, b.scale_);
  auto x = a.Widened(scale);
  auto y = b.Widened(scale);
  if (!x || !y) {
    double dx = ToDouble(), dy = other.ToDouble();
    return dx < dy ? -1 : (dx > dy ? 1 : 0);
  }
  return *x < *y ? -1 : (*x > *y ? 1 : 0);
}

bool Decimal::Equivalent(const Decimal& other) const {
  int scale = std::min(scale_, other.scale_);
  return Rescale(scale, Rounding::kHalfAwayFromZero)
             .Compare(other.Rescale(scale, Rounding::kHalfAwayFromZero)) == 0;
}

}  // namespace fhirbridge::fhirpath
