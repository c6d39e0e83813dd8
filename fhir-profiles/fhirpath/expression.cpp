#include "fhir-profiles/fhirpath/expression.h"

#include "fhir-profiles/fhirpath/checker.h"
#include "fhir-profiles/fhirpath/evaluator.h"
#include "fhir-profiles/fhirpath/parser.h"

namespace fhirbridge::fhirpath {

namespace {

constexpr size_t kMaxJsonBytes = 64 * 1024 * 1024;
constexpr int kMaxJsonDepth = 256;

bool WithinDepth(const rapidjson::Value& v, int depth) {
  if (depth > kMaxJsonDepth) return false;
  if (v.IsObject()) {
    for (const auto& m : v.GetObject()) {
      if (!WithinDepth(m.value, depth + 1)) return false;
    }
  } else if (v.IsArray()) {
    for (const auto& e : v.GetArray()) {
      if (!WithinDepth(e, depth + 1)) return false;
    }
  }
  return true;
}

}  // namespace

Result<Expression> Expression::Parse(std::string_view text, const ParseOptions& options) {
  Result<std::unique_ptr<AstNode>> ast = ParseAst(text);
  if (!ast.ok()) return ast.status();
  FHIRBRIDGE_RETURN_IF_ERROR(CheckAst(**ast, options));
  MarkCacheable(**ast);
  return Expression(std::string(text), std::shared_ptr<const AstNode>(std::move(*ast)));
}

Result<Collection> Expression::Evaluate(const Subject& subject) const {
  Collection context;
  const rapidjson::Value* node = subject.context != nullptr ? subject.context : subject.resource;
  if (node != nullptr) {
    const TypeInfo* type = ResourceType(*node);
    if (type == nullptr && !subject.context_type.empty()) {
      type = Model::R4().Find(subject.context_type);
    }
    context.push_back(Item::Node({node, nullptr, type}));
  }
  Evaluator evaluator(subject, context);
  Collection out;
  FHIRBRIDGE_RETURN_IF_ERROR(evaluator.Eval(*root_, context, out));
  return out;
}

Result<bool> Expression::EvaluateBoolean(const Subject& subject, bool if_empty) const {
  Result<Collection> r = Evaluate(subject);
  if (!r.ok()) return r.status();
  if (r->empty()) return if_empty;
  if (r->size() == 1) {
    std::optional<Item> v = ToSystem((*r)[0]);
    if (v && v->kind() == ItemKind::kBoolean) return v->boolean();
  }
  return Status::InvalidArgument("expected a single Boolean, got " + std::to_string(r->size()) +
                                 " item(s) of type " + std::string(TypeName((*r)[0])));
}

Status ParseFhirJson(std::string_view text, rapidjson::Document& out) {
  if (text.size() > kMaxJsonBytes) return Status::ResourceExhausted("JSON input too large");
  out.Parse<rapidjson::kParseNumbersAsStringsFlag | rapidjson::kParseIterativeFlag>(text.data(),
                                                                                    text.size());
  if (out.HasParseError()) {
    return Status::InvalidArgument("malformed JSON at offset " +
                                   std::to_string(out.GetErrorOffset()));
  }
  if (!WithinDepth(out, 0)) return Status::ResourceExhausted("JSON nested too deeply");
  return Status::Ok();
}

}  // namespace fhirbridge::fhirpath
