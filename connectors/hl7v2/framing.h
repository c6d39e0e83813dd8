#pragma once

// Splitting a file (or any byte stream read whole) into HL7 v2 messages, for
// `fhirbridge convert` and tests. Live MLLP connections use their own frame decoder.
//
// Rules, applied left to right:
//  1. A UTF-8 byte order mark at the very start is skipped.
//  2. Between messages, whitespace (space, TAB, CR, LF) is ignored.
//  3. 0x0B starts an MLLP frame (HL7 v2 MLLP Release 2: <VT> message <FS><CR>). The bytes up to
//     the next 0x1C are one message, returned exactly as they are. A 0x1C not followed by 0x0D
//     is reported but the message is kept; a frame that meets another 0x0B or the end of the
//     input before its 0x1C is reported and not returned (it is probably cut short); a frame
//     with nothing but whitespace in it is reported.
//  4. "MSH" starts an unframed message. It runs up to the next line (after CR, LF or CRLF) that
//     starts with "MSH", the next 0x0B or 0x1C, or the end. Blank lines and whitespace at its
//     end are not part of it; its last segment terminator is. So messages may follow each
//     other directly, or be separated by blank lines. A 0x1C after it is reported (an end
//     block without a start block).
//  5. Anything else is stray bytes: everything up to the next 0x0B or line starting with "MSH"
//     is reported as one problem and skipped.
// Problems are reported with offsets and a reason, never with the bytes themselves (PHI).

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace fhirbridge::hl7v2 {

/// Something in the input that is not a well-framed message.
struct FramingProblem {
  std::size_t offset = 0;  ///< first byte concerned, from the start of the input
  std::size_t length = 0;  ///< bytes concerned
  std::string reason;      ///< what is wrong, e.g. "MLLP frame is not terminated"
};

/// The messages found in an input and what was wrong around them.
struct SplitResult {
  std::vector<std::string_view> messages;  ///< views into the input, in order
  std::vector<FramingProblem> problems;    ///< in order of offset
};

/// Splits `input` into messages by the rules above and reports every problem.
SplitResult SplitMessagesReporting(std::string_view input);

/// The messages only. Stray bytes and broken frames are dropped: use SplitMessagesReporting()
/// wherever the user must hear about them.
std::vector<std::string_view> SplitMessages(std::string_view input);

}  // namespace fhirbridge::hl7v2
