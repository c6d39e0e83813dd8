// BICEPS (IEEE 11073-10207) documents → SdcDocument. Element names are matched by namespace URI
// and local name, never by prefix: providers use pm:/msg:, ns3:, default namespaces, ...

#include <charconv>
#include <cstdio>

#include "connectors/ieee11073/sdc/sdc_document.h"
#include "connectors/ieee11073/sdc/xml_input.h"

namespace fhirbridge::sdc {

namespace {

using pugi::xml_node;

// Unicode "format" characters (general category Cf) that are invisible in an editor and often
// survive copy and paste from documents into code attributes (U+202C, POP DIRECTIONAL FORMATTING,
// in one of the shared MDIBs).
bool IsInvisible(std::uint32_t cp) {
  return cp == 0xAD || (cp >= 0x200B && cp <= 0x200F) || (cp >= 0x202A && cp <= 0x202E) ||
         (cp >= 0x2060 && cp <= 0x2064) || cp == 0xFEFF;
}

// The code point at text[i] (the input is valid UTF-8: checked before parsing).
std::uint32_t CodePointAt(std::string_view text, std::size_t i, std::size_t& len) {
  const auto c = static_cast<unsigned char>(text[i]);
  len = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
  std::uint32_t cp = len == 1 ? c : len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
  for (std::size_t k = 1; k < len && i + k < text.size(); ++k)
    cp = (cp << 6) | (static_cast<unsigned char>(text[i + k]) & 0x3F);
  return cp;
}

std::string Hex(std::uint32_t cp) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "U+%04X", static_cast<unsigned>(cp));
  return buf;
}

// An MDC code is the context-free code (partition * 65536 + term code) in decimal
// (IEEE 11073-10101 section A.3; BICEPS CodedValue/@Code). Returns what is wrong, or "".
std::string MdcCodeProblem(std::string_view code) {
  if (code.empty()) return "is empty";
  for (std::size_t i = 0; i < code.size();) {
    std::size_t len = 1;
    const std::uint32_t cp = CodePointAt(code, i, len);
    if (cp < '0' || cp > '9') {
      const std::string at = " at character " + std::to_string(i + 1);
      if (IsInvisible(cp))
        return "contains the invisible character " + Hex(cp) + at + " (it is not an MDC code)";
      if (cp < 0x80 && cp > 0x20 && cp != 0x7F)
        return "contains '" + std::string(1, static_cast<char>(cp)) + "'" + at +
               " (an MDC code is the context-free code in decimal digits)";
      return "contains the character " + Hex(cp) + at + " (an MDC code is decimal digits)";
    }
    i += len;
  }
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(code.data(), code.data() + code.size(), value);
  if (ec != std::errc() || value > 0xFFFFFFFFu) return "is out of the 32-bit MDC code range";
  return {};
}

// xsd:decimal (XML Schema 1.0 part 2, 3.2.3): optional sign, digits with at most one '.', at
// least one digit; no exponent, no spaces (attribute values are not whitespace-collapsed for
// us to trust).
bool IsXsdDecimal(std::string_view v) {
  std::size_t i = 0;
  if (i < v.size() && (v[i] == '+' || v[i] == '-')) ++i;
  bool digit = false, dot = false;
  for (; i < v.size(); ++i) {
    if (v[i] >= '0' && v[i] <= '9') {
      digit = true;
    } else if (v[i] == '.' && !dot) {
      dot = true;
    } else {
      return false;
    }
  }
  return digit;
}

SdcMetricKind MetricKindOf(std::string_view type, std::string_view suffix) {
  if (type.size() <= suffix.size() || type.substr(type.size() - suffix.size()) != suffix)
    return SdcMetricKind::kOther;
  const std::string_view base = type.substr(0, type.size() - suffix.size());
  if (base == "NumericMetric") return SdcMetricKind::kNumeric;
  if (base == "StringMetric") return SdcMetricKind::kString;
  if (base == "EnumStringMetric") return SdcMetricKind::kEnumString;
  if (base == "RealTimeSampleArrayMetric") return SdcMetricKind::kRealTimeSampleArray;
  if (base == "DistributionSampleArrayMetric") return SdcMetricKind::kDistributionSampleArray;
  return SdcMetricKind::kOther;
}

class Reader {
 public:
  Reader(const XmlInput& in, SdcDocument& doc) : in_(in), doc_(doc) {}

  Status ReadMdib(xml_node mdib);
  Status ReadReport(xml_node report);
  void CheckReportHandles(const SdcDocument* context);

 private:
  void Issue(DataIssue::Severity severity, std::string code, std::string where, std::string text) {
    doc_.issues.push_back({severity, std::move(code), std::move(where), std::move(text)});
  }
  std::string Text(xml_node n) const;
  std::string Attr(xml_node n, const char* name);
  void CheckCodes(xml_node description);
  std::optional<SdcCode> ReadCode(xml_node coded);
  void ReadMds(xml_node mds);
  void ReadMetric(xml_node metric, const SdcComponent& channel);
  void ReadState(xml_node state, bool in_report);
  void ReadPatient(xml_node state);

  const XmlInput& in_;
  SdcDocument& doc_;
};

// An attribute value, with the value-size limit applied (an over-long value is an issue and
// reads as empty).
std::string Reader::Attr(xml_node n, const char* name) {
  const pugi::xml_attribute a = n.attribute(name);
  if (!a) return {};
  const std::string_view v = a.value();
  if (v.size() > in_.limits().max_value_bytes) {
    Issue(DataIssue::Severity::kError, "too-long", in_.WhereAttribute(n, name),
          "the value has " + std::to_string(v.size()) + " bytes, more than the limit of " +
              std::to_string(in_.limits().max_value_bytes));
    return {};
  }
  return std::string(v);
}

std::string Reader::Text(xml_node n) const {
  std::string_view v = n.text().get();
  while (!v.empty() &&
         (v.front() == ' ' || v.front() == '\n' || v.front() == '\t' || v.front() == '\r'))
    v.remove_prefix(1);
  while (!v.empty() &&
         (v.back() == ' ' || v.back() == '\n' || v.back() == '\t' || v.back() == '\r'))
    v.remove_suffix(1);
  if (v.size() > in_.limits().max_value_bytes) v = v.substr(0, in_.limits().max_value_bytes);
  return std::string(v);
}

// Every Type and Unit of the description, mapped or not, so that a broken code anywhere (an
// alert condition's, an operation's) is reported where it is.
void Reader::CheckCodes(xml_node description) {
  for (xml_node n = description.first_child(); n;) {
    if (n.type() == pugi::node_element &&
        (in_.Is(n, kParticipantNs, "Type") || in_.Is(n, kParticipantNs, "Unit"))) {
      const std::string system = n.attribute("CodingSystem").value();
      if (system.empty() || system == kMdcCodingSystem) {
        if (!n.attribute("Code")) {
          Issue(DataIssue::Severity::kWarning, "required", in_.Where(n),
                std::string(LocalName(n.name())) + " has no Code");
        } else if (std::string problem = MdcCodeProblem(n.attribute("Code").value());
                   !problem.empty()) {
          Issue(DataIssue::Severity::kWarning, "code-invalid", in_.WhereAttribute(n, "Code"),
                "the MDC code " + problem);
        }
      }
    }
    if (n.first_child()) {
      n = n.first_child();
      continue;
    }
    while (n && !n.next_sibling() && n != description) n = n.parent();
    if (!n || n == description) break;
    n = n.next_sibling();
  }
}

// A CodedValue, or nullopt when it has no usable code (already reported by CheckCodes).
std::optional<SdcCode> Reader::ReadCode(xml_node coded) {
  if (!coded || !coded.attribute("Code")) return std::nullopt;
  SdcCode c;
  c.code = Attr(coded, "Code");
  c.coding_system = Attr(coded, "CodingSystem");
  if (c.coding_system.empty()) c.coding_system = std::string(kMdcCodingSystem);
  if (c.IsMdc() && !MdcCodeProblem(c.code).empty()) return std::nullopt;
  if (xml_node d = in_.Child(coded, kParticipantNs, "ConceptDescription")) c.text = Text(d);
  c.location = in_.Where(coded);
  return c;
}

void Reader::ReadMetric(xml_node metric, const SdcComponent& channel) {
  SdcMetric m;
  m.handle = Attr(metric, "Handle");
  m.channel_handle = channel.handle;
  m.mds_handle = channel.mds_handle;
  m.location = in_.Where(metric);
  std::string problem;
  const std::optional<std::string> type = in_.XsiType(metric, kParticipantNs, problem);
  if (!type) {
    Issue(DataIssue::Severity::kError, "structure", m.location, problem);
  } else {
    m.kind = MetricKindOf(*type, "Descriptor");
  }
  m.type = ReadCode(in_.Child(metric, kParticipantNs, "Type"));
  m.unit = ReadCode(in_.Child(metric, kParticipantNs, "Unit"));
  if (m.handle.empty()) {
    Issue(DataIssue::Severity::kError, "required", m.location, "the metric has no Handle");
    return;
  }
  doc_.metrics.push_back(std::move(m));
}

void Reader::ReadMds(xml_node mds) {
  SdcComponent c;
  c.kind = SdcComponent::Kind::kMds;
  c.handle = Attr(mds, "Handle");
  c.mds_handle = c.handle;
  c.location = in_.Where(mds);
  c.type = ReadCode(in_.Child(mds, kParticipantNs, "Type"));
  if (xml_node meta = in_.Child(mds, kParticipantNs, "MetaData")) {
    if (xml_node x = in_.Child(meta, kParticipantNs, "Manufacturer")) c.manufacturer = Text(x);
    if (xml_node x = in_.Child(meta, kParticipantNs, "ModelNumber")) c.model_number = Text(x);
    if (xml_node x = in_.Child(meta, kParticipantNs, "SerialNumber")) c.serial_number = Text(x);
  }
  if (c.handle.empty()) {
    Issue(DataIssue::Severity::kError, "required", c.location, "the MDS has no Handle");
    return;
  }
  const SdcComponent mds_copy = c;
  doc_.components.push_back(std::move(c));
  for (xml_node vmd = mds.first_child(); vmd; vmd = vmd.next_sibling()) {
    if (!in_.Is(vmd, kParticipantNs, "Vmd")) continue;
    SdcComponent v{SdcComponent::Kind::kVmd,
                   Attr(vmd, "Handle"),
                   mds_copy.handle,
                   mds_copy.handle,
                   ReadCode(in_.Child(vmd, kParticipantNs, "Type")),
                   {},
                   {},
                   {},
                   in_.Where(vmd)};
    if (v.handle.empty()) {
      Issue(DataIssue::Severity::kError, "required", v.location, "the VMD has no Handle");
      continue;
    }
    doc_.components.push_back(v);
    for (xml_node ch = vmd.first_child(); ch; ch = ch.next_sibling()) {
      if (!in_.Is(ch, kParticipantNs, "Channel")) continue;
      SdcComponent channel{SdcComponent::Kind::kChannel,
                           Attr(ch, "Handle"),
                           v.handle,
                           mds_copy.handle,
                           ReadCode(in_.Child(ch, kParticipantNs, "Type")),
                           {},
                           {},
                           {},
                           in_.Where(ch)};
      if (channel.handle.empty()) {
        Issue(DataIssue::Severity::kError, "required", channel.location,
              "the channel has no Handle");
        continue;
      }
      doc_.components.push_back(channel);
      for (xml_node m = ch.first_child(); m; m = m.next_sibling())
        if (in_.Is(m, kParticipantNs, "Metric")) ReadMetric(m, channel);
    }
  }
}

void Reader::ReadPatient(xml_node state) {
  if (std::string_view(state.attribute("ContextAssociation").value()) != "Assoc") return;
  SdcPatient p;
  p.location = in_.Where(state);
  for (xml_node id = state.first_child(); id; id = id.next_sibling()) {
    if (!in_.Is(id, kParticipantNs, "Identification")) continue;
    SdcPatient::Id i{Attr(id, "Root"), Attr(id, "Extension")};
    if (!i.extension.empty()) p.identifiers.push_back(std::move(i));
  }
  doc_.patient = std::move(p);
}

void Reader::ReadState(xml_node state, bool in_report) {
  std::string problem;
  const std::optional<std::string> type = in_.XsiType(state, kParticipantNs, problem);
  if (!type) {
    Issue(DataIssue::Severity::kError, "structure", in_.Where(state), problem);
    return;
  }
  if (*type == "PatientContextState" && !in_report) return ReadPatient(state);
  const SdcMetricKind kind = MetricKindOf(*type, "State");
  if (kind == SdcMetricKind::kOther && !in_report) return;  // not a metric (VmdState, ...)
  SdcMetricState s;
  s.kind = kind;
  s.location = in_.Where(state);
  s.descriptor_handle = Attr(state, "DescriptorHandle");
  s.activation_state = Attr(state, "ActivationState");
  if (s.descriptor_handle.empty()) {
    Issue(DataIssue::Severity::kError, "required", s.location,
          "the metric state has no DescriptorHandle");
    return;
  }
  if (!in_report && doc_.FindMetric(s.descriptor_handle) == nullptr) {
    Issue(DataIssue::Severity::kError, "not-found", in_.WhereAttribute(state, "DescriptorHandle"),
          "no metric descriptor has this handle");
  }
  if (xml_node value = in_.Child(state, kParticipantNs, "MetricValue")) {
    s.has_value_element = true;
    if (value.attribute("Value")) {
      s.value = Attr(value, "Value");
      if (kind == SdcMetricKind::kNumeric && !IsXsdDecimal(*s.value)) {
        Issue(DataIssue::Severity::kError, "value", in_.WhereAttribute(value, "Value"),
              "the numeric value is not an xsd:decimal");
        s.value.reset();
      }
    }
    if (value.attribute("DeterminationTime")) {
      const std::string t = Attr(value, "DeterminationTime");
      std::int64_t ms = 0;
      const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), ms);
      if (ec != std::errc() || end != t.data() + t.size() || ms < 0 || t.empty() ||
          ms > 253'402'300'799'999) {  // 9999-12-31T23:59:59.999Z: what FHIR can write
        Issue(DataIssue::Severity::kError, "value", in_.WhereAttribute(value, "DeterminationTime"),
              "DeterminationTime is not milliseconds since 1970 (xsd:unsignedLong up to year "
              "9999)");
      } else {
        s.determination_time_ms = ms;
      }
    }
    if (xml_node q = in_.Child(value, kParticipantNs, "MetricQuality")) {
      s.validity = Attr(q, "Validity");
      s.mode = Attr(q, "Mode");
    }
  }
  doc_.states.push_back(std::move(s));
}

Status Reader::ReadMdib(xml_node mdib) {
  doc_.sequence_id = Attr(mdib, "SequenceId");
  doc_.mdib_version = Attr(mdib, "MdibVersion");
  if (xml_node description = in_.Child(mdib, kParticipantNs, "MdDescription")) {
    CheckCodes(description);
    for (xml_node mds = description.first_child(); mds; mds = mds.next_sibling())
      if (in_.Is(mds, kParticipantNs, "Mds")) ReadMds(mds);
  }
  for (std::size_t i = 0; i < doc_.metrics.size(); ++i) {
    if (!doc_.metric_index.emplace(doc_.metrics[i].handle, i).second) {
      Issue(DataIssue::Severity::kError, "structure", doc_.metrics[i].location,
            "another metric descriptor has the same Handle");
    }
  }
  if (doc_.components.empty()) {
    return Status::InvalidArgument(in_.Where(mdib) +
                                   ": the MDIB describes no MDS (pm:MdDescription/pm:Mds in the "
                                   "BICEPS participant namespace)");
  }
  if (xml_node states = in_.Child(mdib, kParticipantNs, "MdState")) {
    for (xml_node s = states.first_child(); s; s = s.next_sibling())
      if (in_.Is(s, kParticipantNs, "State")) ReadState(s, false);
  }
  return Status::Ok();
}

Status Reader::ReadReport(xml_node report) {
  doc_.sequence_id = Attr(report, "SequenceId");
  doc_.mdib_version = Attr(report, "MdibVersion");
  for (xml_node part = report.first_child(); part; part = part.next_sibling()) {
    if (!in_.Is(part, kMessageNs, "ReportPart")) continue;
    for (xml_node s = part.first_child(); s; s = s.next_sibling())
      if (in_.Is(s, kMessageNs, "MetricState")) ReadState(s, true);
  }
  if (doc_.states.empty()) {
    return Status::InvalidArgument(in_.Where(report) +
                                   ": the report holds no msg:ReportPart/msg:MetricState in the "
                                   "BICEPS message namespace");
  }
  return Status::Ok();
}

void Reader::CheckReportHandles(const SdcDocument* context) {
  if (context == nullptr) return;
  for (const SdcMetricState& s : doc_.states) {
    if (context->FindMetric(s.descriptor_handle) == nullptr) {
      Issue(DataIssue::Severity::kError, "not-found", s.location,
            "no metric descriptor of the MDIB has the DescriptorHandle of this state");
    }
  }
}

// The element a document starts with, looked up by local name when its namespace is wrong, to
// say clearly what is missing.
Status WrongNamespace(const XmlInput& in, xml_node element, std::string_view expected) {
  const std::optional<std::string_view> ns = in.NamespaceOf(element);
  const std::string name(LocalName(element.name()));
  if (!ns) {
    return Status::InvalidArgument(in.Where(element) + ": the namespace prefix \"" +
                                   std::string(Prefix(element.name())) + "\" of " + name +
                                   " is not declared");
  }
  return Status::InvalidArgument(in.Where(element) + ": " + name + " is in the namespace \"" +
                                 std::string(*ns) + "\"; expected \"" + std::string(expected) +
                                 "\" (namespaces are matched by URI)");
}

}  // namespace

const SdcMetric* SdcDocument::FindMetric(std::string_view handle) const {
  if (!metric_index.empty()) {
    const auto it = metric_index.find(std::string(handle));
    return it == metric_index.end() ? nullptr : &metrics[it->second];
  }
  for (const SdcMetric& m : metrics)
    if (m.handle == handle) return &m;
  return nullptr;
}

const SdcComponent* SdcDocument::FindComponent(std::string_view handle) const {
  for (const SdcComponent& c : components)
    if (c.handle == handle) return &c;
  return nullptr;
}

std::string_view KindName(SdcDocument::Kind kind) {
  switch (kind) {
    case SdcDocument::Kind::kMdib:
      return "Mdib";
    case SdcDocument::Kind::kEpisodicMetricReport:
      return "EpisodicMetricReport";
    case SdcDocument::Kind::kPeriodicMetricReport:
      return "PeriodicMetricReport";
  }
  return "Mdib";
}

Result<SdcDocument> ReadSdcDocument(std::string_view xml, const SdcReaderLimits& limits,
                                    const SdcDocument* report_context) {
  Result<XmlInput> parsed = XmlInput::Parse(xml, limits);
  if (!parsed.ok()) return parsed.status();
  const XmlInput& in = *parsed;
  SdcDocument doc;
  xml_node payload = in.root();
  if (LocalName(payload.name()) == "Envelope") {
    if (!in.Is(payload, kSoap12Ns, "Envelope")) return WrongNamespace(in, payload, kSoap12Ns);
    doc.soap = true;
    xml_node body = in.Child(payload, kSoap12Ns, "Body");
    if (!body) return Status::InvalidArgument(in.Where(payload) + ": the envelope has no Body");
    payload = body.find_child([](xml_node n) { return n.type() == pugi::node_element; });
    if (!payload) return Status::InvalidArgument(in.Where(body) + ": the Body is empty");
  }
  const std::string_view name = LocalName(payload.name());
  Reader reader(in, doc);
  const bool known = name == "GetMdibResponse" || name == "Mdib" ||
                     name == "EpisodicMetricReport" || name == "PeriodicMetricReport";
  if (!known) {
    return Status::InvalidArgument(in.Where(payload) + ": " + std::string(name) +
                                   " is not an SDC document this reader takes (GetMdibResponse, "
                                   "Mdib, EpisodicMetricReport, PeriodicMetricReport)");
  }
  if (!in.Is(payload, kMessageNs, name)) return WrongNamespace(in, payload, kMessageNs);
  Status status;
  if (name == "GetMdibResponse" || name == "Mdib") {
    doc.kind = SdcDocument::Kind::kMdib;
    xml_node mdib = name == "Mdib" ? payload : in.Child(payload, kMessageNs, "Mdib");
    if (!mdib) {
      return Status::InvalidArgument(in.Where(payload) +
                                     ": GetMdibResponse holds no msg:Mdib (in the BICEPS "
                                     "message namespace)");
    }
    status = reader.ReadMdib(mdib);
  } else {
    doc.kind = name == "EpisodicMetricReport" ? SdcDocument::Kind::kEpisodicMetricReport
                                              : SdcDocument::Kind::kPeriodicMetricReport;
    status = reader.ReadReport(payload);
    if (status.ok()) reader.CheckReportHandles(report_context);
  }
  if (!status.ok()) return status;
  return doc;
}

}  // namespace fhirbridge::sdc
