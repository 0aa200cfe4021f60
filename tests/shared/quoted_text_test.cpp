#include "shared/quoted_text.hpp"

#include <gtest/gtest.h>

#include "shared/http/message.hpp"

namespace lifeline {
namespace {

std::string quoted(std::string_view text, ControlChars mode) {
  std::string out = "prefix ";
  append_quoted(out, text, mode);
  return out;
}

TEST(QuotedText, EscapesQuotesBackslashesAndCommonControlsTheSameWayInBothModes) {
  for (auto mode : {ControlChars::json_escape, ControlChars::replace_with_question_mark})
    EXPECT_EQ(quoted("a\"b\\c\nd\re\tf", mode), "prefix \"a\\\"b\\\\c\\nd\\re\\tf\"");
}

TEST(QuotedText, OtherControlCharactersAreUnicodeEscapesInJsonAndQuestionMarksInLogs) {
  const std::string text = std::string("x\x01y") + '\0' + "\x1b[31m";
  EXPECT_EQ(quoted(text, ControlChars::json_escape), "prefix \"x\\u0001y\\u0000\\u001b[31m\"");
  EXPECT_EQ(quoted(text, ControlChars::replace_with_question_mark), "prefix \"x?y??[31m\"");
}

TEST(QuotedText, LeavesUtf8AndEmptyTextAlone) {
  EXPECT_EQ(quoted("", ControlChars::json_escape), "prefix \"\"");
  EXPECT_EQ(quoted("n\xc5\x93ud", ControlChars::json_escape), "prefix \"n\xc5\x93ud\"");
}

TEST(QuotedText, JsonErrorBodiesUseIt) {
  EXPECT_EQ(http::json_error(400, "bad", "line\n\"x\"").body,
            "{\"error\":\"bad\",\"detail\":\"line\\n\\\"x\\\"\"}");
}

}  // namespace
}  // namespace lifeline
