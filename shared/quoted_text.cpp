#include "shared/quoted_text.hpp"

#include <cstdio>

namespace lifeline {

void append_quoted(std::string& out, std::string_view text, ControlChars other_controls) {
  out.reserve(out.size() + text.size() + 2);
  out += '"';
  for (char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) >= 0x20) {
          out += c;
        } else if (other_controls == ControlChars::replace_with_question_mark) {
          out += '?';
        } else {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(c)));
          out += buf;
        }
    }
  }
  out += '"';
}

}  // namespace lifeline
