#include "fhir-profiles/validator/snapshot.h"

#include <string>
#include <unordered_map>
#include <vector>

#include "fhir-profiles/validator/definitions.h"

namespace fhirbridge::validator {

namespace {

using Alloc = rapidjson::Document::AllocatorType;

std::string Str(const rapidjson::Value& v, const char* key) {
  auto it = v.FindMember(key);
  if (it == v.MemberEnd() || !it->value.IsString()) return {};
  return {it->value.GetString(), it->value.GetStringLength()};
}

void SetString(rapidjson::Value& v, const char* key, const std::string& s, Alloc& a) {
  rapidjson::Value val(s.c_str(), static_cast<rapidjson::SizeType>(s.size()), a);
  auto it = v.FindMember(key);
  if (it != v.MemberEnd()) {
    it->value = val;
  } else {
    v.AddMember(rapidjson::Value(key, a), val, a);
  }
}

bool StartsWith(const std::string& s, const std::string& prefix) {
  return s.size() >= prefix.size() && s.compare(0, prefix.size(), prefix) == 0;
}

// Element list with id lookup.
class Elements {
 public:
  std::vector<rapidjson::Value> list;

  int Find(const std::string& id) const {
    for (std::size_t i = 0; i < list.size(); ++i)
      if (Str(list[i], "id") == id) return static_cast<int>(i);
    return -1;
  }
  // One past the last element of the subtree (children and slices) of element i.
  std::size_t SubtreeEnd(std::size_t i) const {
    std::string id = Str(list[i], "id");
    std::size_t j = i + 1;
    while (j < list.size()) {
      std::string other = Str(list[j], "id");
      if (!StartsWith(other, id + ".") && !StartsWith(other, id + ":")) break;
      ++j;
    }
    return j;
  }
  void Insert(std::size_t at, std::vector<rapidjson::Value>& items) {
    std::vector<rapidjson::Value> out;
    out.reserve(list.size() + items.size());
    for (std::size_t i = 0; i < at; ++i) out.push_back(std::move(list[i]));
    for (auto& v : items) out.push_back(std::move(v));
    for (std::size_t i = at; i < list.size(); ++i) out.push_back(std::move(list[i]));
    list.swap(out);
  }
};

// Replaces the `from` prefix of id and path by `to_id` / `to_path`.
rapidjson::Value Rebased(const rapidjson::Value& e, const std::string& from_id,
                         const std::string& to_id, const std::string& from_path,
                         const std::string& to_path, Alloc& a) {
  rapidjson::Value copy(e, a);
  std::string id = Str(e, "id");
  std::string path = Str(e, "path");
  if (id.empty()) id = path;
  SetString(copy, "id", to_id + id.substr(from_id.size()), a);
  SetString(copy, "path", to_path + path.substr(std::min(from_path.size(), path.size())), a);
  return copy;
}

// Inserts the children of element i's type (from the type's own snapshot).
bool ExpandType(Elements& els, std::size_t i, const Definitions& defs, Alloc& a) {
  const rapidjson::Value& e = els.list[i];
  auto types = e.FindMember("type");
  std::string code;
  if (types != e.MemberEnd() && types->value.IsArray() && types->value.Size() >= 1)
    code = Str(types->value[0], "code");
  const rapidjson::Value* sd = code.empty() ? nullptr : defs.StructureForType(code);
  if (sd == nullptr) return false;
  const rapidjson::Value& snap = (*sd)["snapshot"]["element"];
  std::string id = Str(e, "id"), path = Str(e, "path");
  std::string root = Str(snap[0], "path");
  std::vector<rapidjson::Value> add;
  for (rapidjson::SizeType k = 1; k < snap.Size(); ++k)
    add.push_back(Rebased(snap[k], root, id, root, path, a));
  if (add.empty()) return false;
  els.Insert(i + 1, add);
  return true;
}

void Merge(rapidjson::Value& target, const rapidjson::Value& diff, Alloc& a) {
  for (auto m = diff.MemberBegin(); m != diff.MemberEnd(); ++m) {
    std::string key(m->name.GetString(), m->name.GetStringLength());
    if (key == "id" || key == "path") continue;
    if (key == "constraint" && target.HasMember("constraint") && target["constraint"].IsArray() &&
        m->value.IsArray()) {
      for (const auto& c : m->value.GetArray())
        target["constraint"].PushBack(rapidjson::Value(c, a), a);
      continue;
    }
    // A profile's fixed/pattern replaces any inherited one of the other kind.
    rapidjson::Value val(m->value, a);
    auto it = target.FindMember(key.c_str());
    if (it != target.MemberEnd()) {
      it->value = val;
    } else {
      target.AddMember(rapidjson::Value(key.c_str(), a), val, a);
    }
  }
}

// The id a differential element refers to (older profiles carry no ids).
std::string DiffId(const rapidjson::Value& d, std::unordered_map<std::string, std::string>& open) {
  std::string id = Str(d, "id");
  std::string path = Str(d, "path");
  std::string slice = Str(d, "sliceName");
  if (!id.empty()) return id;
  id = path;
  for (std::size_t cut = path.size(); cut > 0;) {
    auto it = open.find(path.substr(0, cut));
    if (it != open.end()) {
      id = it->second + path.substr(cut);
      break;
    }
    std::size_t dot = path.rfind('.', cut - 1);
    if (dot == std::string::npos) break;
    cut = dot;
  }
  if (!slice.empty()) {
    id += ":" + slice;
    open[path] = id;
  }
  return id;
}

Status Apply(Elements& els, const rapidjson::Value& d, const std::string& id,
             const Definitions& defs, Alloc& a) {
  for (int attempt = 0; attempt < 16; ++attempt) {
    int found = els.Find(id);
    if (found >= 0) {
      Merge(els.list[found], d, a);
      return Status::Ok();
    }
    std::size_t colon = id.rfind(':');
    std::size_t dot = id.rfind('.');
    if (colon != std::string::npos && (dot == std::string::npos || colon > dot)) {
      // A new slice: a copy of the sliced element (and its subtree), after its last slice.
      std::string sliced = id.substr(0, colon);
      int base = els.Find(sliced);
      if (base < 0) {
        if (!els.list.empty() && dot != std::string::npos) {
          // The sliced element itself is inside a type not yet expanded.
        }
      } else {
        std::size_t end = els.SubtreeEnd(base);
        std::vector<rapidjson::Value> add;
        std::string path = Str(els.list[base], "path");
        for (std::size_t k = base; k < end; ++k) {
          std::string kid = Str(els.list[k], "id");
          if (k != static_cast<std::size_t>(base) && StartsWith(kid, sliced + ":")) continue;
          if (kid.find(':', sliced.size()) != std::string::npos &&
              k != static_cast<std::size_t>(base))
            continue;
          rapidjson::Value copy = Rebased(els.list[k], sliced, id, path, path, a);
          if (k == static_cast<std::size_t>(base)) {
            copy.RemoveMember("slicing");
            SetString(copy, "sliceName",
                      Str(d, "sliceName").empty() ? id.substr(colon + 1) : Str(d, "sliceName"), a);
          }
          add.push_back(std::move(copy));
        }
        els.Insert(end, add);
        continue;
      }
    }
    // Reach into the nearest ancestor's type.
    std::string prefix = id;
    int ancestor = -1;
    while (ancestor < 0) {
      std::size_t cut = prefix.rfind('.');
      if (cut == std::string::npos) break;
      prefix = prefix.substr(0, cut);
      ancestor = els.Find(prefix);
    }
    if (ancestor < 0) break;
    if (els.SubtreeEnd(ancestor) != static_cast<std::size_t>(ancestor) + 1 &&
        Str(els.list[ancestor + 1], "id").rfind(prefix + ".", 0) == 0) {
      // Children exist: the name may be a renamed choice (valueQuantity for value[x]).
      std::string name = id.substr(prefix.size() + 1);
      std::size_t next = name.find_first_of(".:");
      std::string head = name.substr(0, next);
      std::size_t end = els.SubtreeEnd(ancestor);
      bool added = false;
      for (std::size_t k = ancestor + 1; k < end && !added; ++k) {
        std::string kid = Str(els.list[k], "id");
        std::string cand = kid.substr(prefix.size() + 1);
        if (cand.size() > 3 && cand.compare(cand.size() - 3, 3, "[x]") == 0 &&
            head.compare(0, cand.size() - 3, cand, 0, cand.size() - 3) == 0 &&
            head.size() > cand.size() - 3) {
          std::vector<rapidjson::Value> add;
          add.push_back(Rebased(els.list[k], kid, prefix + "." + head, Str(els.list[k], "path"),
                                Str(els.list[ancestor], "path") + "." + head, a));
          // One type: the one the name says.
          els.Insert(els.SubtreeEnd(k), add);
          added = true;
        }
      }
      if (!added) break;
      continue;
    }
    if (!ExpandType(els, ancestor, defs, a)) break;
  }
  return Status::InvalidArgument("differential element " + id + " does not match the base");
}

}  // namespace

Status GenerateSnapshot(rapidjson::Value& sd, const Definitions& defs, Alloc& alloc,
                        std::size_t max_elements) {
  std::string url = Str(sd, "url");
  std::string base_url = Str(sd, "baseDefinition");
  const rapidjson::Value* base = defs.StructureByUrl(base_url);
  if (base == nullptr)
    return Status::NotFound(url + ": base definition " + base_url + " is not loaded");
  auto diff = sd.FindMember("differential");
  if (diff == sd.MemberEnd() || !diff->value.HasMember("element") ||
      !diff->value["element"].IsArray())
    return Status::InvalidArgument(url +
                                   ": StructureDefinition has neither snapshot nor differential");
  Elements els;
  for (const auto& e : (*base)["snapshot"]["element"].GetArray()) {
    rapidjson::Value copy(e, alloc);
    if (Str(copy, "id").empty()) SetString(copy, "id", Str(copy, "path"), alloc);
    els.list.push_back(std::move(copy));
  }
  std::unordered_map<std::string, std::string> open;
  for (const auto& d : diff->value["element"].GetArray()) {
    if (!d.IsObject()) continue;
    std::string id = DiffId(d, open);
    Status s = Apply(els, d, id, defs, alloc);
    if (!s.ok()) return s.WithContext(url);
    if (els.list.size() > max_elements)
      return Status::ResourceExhausted(url + ": snapshot larger than " +
                                       std::to_string(max_elements) + " elements");
  }
  rapidjson::Value elements(rapidjson::kArrayType);
  for (auto& e : els.list) elements.PushBack(std::move(e), alloc);
  rapidjson::Value snapshot(rapidjson::kObjectType);
  snapshot.AddMember("element", elements, alloc);
  sd.AddMember("snapshot", snapshot, alloc);
  return Status::Ok();
}

}  // namespace fhirbridge::validator
