#pragma once
// Double-quoted text with backslash escapes, the one form shared by JSON strings (error
// bodies) and quoted logfmt values (log lines). They differ only in other control
// characters: JSON spells them \u00XX, a log line replaces them with '?' so that a hostile
// value cannot forge log syntax or terminal escapes.
// Thread-safety: pure functions.

#include <string>
#include <string_view>

namespace lifeline {

enum class ControlChars { json_escape, replace_with_question_mark };

// Appends `"` + `text` with '"', '\\', '\n', '\r', '\t' backslash-escaped + `"` to `out`.
void append_quoted(std::string& out, std::string_view text, ControlChars other_controls);

}  // namespace lifeline
