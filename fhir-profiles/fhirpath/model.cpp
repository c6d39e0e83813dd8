#include "fhir-profiles/fhirpath/model.h"

#include <cctype>
#include <string>

namespace fhirbridge::fhirpath {

std::string_view fhir_r4_model_txt();  // embedded by CMake (fhirbridge_embed_files)

namespace {

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    size_t end = s.find(sep, start);
    out.push_back(s.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) return out;
    start = end + 1;
  }
}

struct PendingElement {
  TypeInfo* owner;
  ElementInfo* element;
  std::vector<std::string_view> type_names;
};

void Flatten(TypeInfo* t, std::unordered_map<const TypeInfo*, bool>& done) {
  if (done[t]) return;
  done[t] = true;
  if (t->base == nullptr) return;
  auto* base = const_cast<TypeInfo*>(t->base);
  Flatten(base, done);
  for (const auto& [name, element] : base->elements) t->elements.emplace(name, element);
}

}  // namespace

bool TypeInfo::IsA(const TypeInfo* other) const {
  for (const TypeInfo* t = this; t != nullptr; t = t->base) {
    if (t == other) return true;
  }
  return false;
}

const ElementInfo* TypeInfo::Find(std::string_view element) const {
  auto it = elements.find(element);
  return it == elements.end() ? nullptr : it->second;
}

const TypeInfo* Model::Find(std::string_view name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : it->second;
}

std::unique_ptr<Model> Model::FromText(std::string_view text) {
  auto model = std::make_unique<Model>();
  std::vector<std::pair<TypeInfo*, std::string_view>> bases;
  std::vector<PendingElement> pending;
  TypeInfo* current = nullptr;
  for (std::string_view line : Split(text, '\n')) {
    if (line.empty() || line[0] == '#') continue;
    if (line[0] == ' ') {
      std::vector<std::string_view> parts = Split(line.substr(1), ' ');
      if (current == nullptr || parts.size() != 2) continue;
      auto element = std::make_unique<ElementInfo>();
      std::string_view name = parts[0];
      element->repeats = !name.empty() && name.back() == '*';
      if (element->repeats) name.remove_suffix(1);
      element->name = std::string(name);
      pending.push_back({current, element.get(), Split(parts[1], '|')});
      model->elements_.push_back(std::move(element));
      continue;
    }
    std::vector<std::string_view> parts = Split(line, ' ');
    if (parts.size() != 3) continue;
    auto type = std::make_unique<TypeInfo>();
    type->name = std::string(parts[0]);
    switch (parts[2].empty() ? 'C' : parts[2][0]) {
      case 'P':
        type->kind = TypeInfo::Kind::kPrimitive;
        break;
      case 'R':
        type->kind = TypeInfo::Kind::kResource;
        break;
      case 'B':
        type->kind = TypeInfo::Kind::kBackbone;
        break;
      default:
        type->kind = TypeInfo::Kind::kComplex;
        break;
    }
    current = type.get();
    bases.emplace_back(current, parts[1]);
    model->types_.push_back(std::move(type));
  }
  for (const auto& t : model->types_) model->by_name_.emplace(t->name, t.get());
  for (auto& [type, base] : bases) {
    type->base = base == "-" ? nullptr : model->Find(base);
    type->shown = type->kind == TypeInfo::Kind::kBackbone && type->base != nullptr
                      ? std::string_view(type->base->name)
                      : std::string_view(type->name);
  }
  for (PendingElement& p : pending) {
    for (std::string_view name : p.type_names) {
      if (const TypeInfo* t = model->Find(name)) p.element->types.push_back(t);
    }
    p.owner->elements.emplace(p.element->name, p.element);
  }
  std::unordered_map<const TypeInfo*, bool> done;
  for (const auto& t : model->types_) Flatten(t.get(), done);
  return model;
}

const Model& Model::R4() {
  static const std::unique_ptr<Model> model = FromText(fhir_r4_model_txt());
  return *model;
}

std::string ChoiceProperty(std::string_view base, std::string_view type) {
  std::string out(base);
  out += type;
  out[base.size()] = static_cast<char>(std::toupper(static_cast<unsigned char>(out[base.size()])));
  return out;
}

}  // namespace fhirbridge::fhirpath
