// SPDX-License-Identifier: MIT
// agent/json_text.cpp - find a member's value in JSON text and replace it.
#include "agent/json_text.h"

#include <cerrno>
#include <cstring>
#include <optional>
#include <string_view>
#include <vector>

namespace extsys::agent {
namespace {

struct Span {
  size_t begin = 0, end = 0;  // [begin, end)
};

// A member of an object: where its key starts and its value's span.
struct Member {
  std::string key;  // raw, between the quotes
  size_t keyBegin = 0;
  Span value;
};

// A JSON scanner that only finds boundaries; the document is validated as
// a whole by the caller's parser.
class Scanner {
public:
  explicit Scanner(const std::string& s) : s_(s) {}

  size_t skipWs(size_t i) const {
    while (i < s_.size() && std::strchr(" \t\r\n", s_[i]) != nullptr && s_[i] != '\0')
      ++i;
    return i;
  }

  // The end of the string starting at `i` (a quote), or npos.
  size_t skipString(size_t i) const {
    for (++i; i < s_.size(); ++i) {
      if (s_[i] == '\\')
        ++i;
      else if (s_[i] == '"')
        return i + 1;
    }
    return std::string::npos;
  }

  // The end of the value starting at `i` (after white space), or npos.
  size_t skipValue(size_t i, int depth = 0) const {
    if (depth > 512 || i >= s_.size())
      return std::string::npos;
    const char c = s_[i];
    if (c == '"')
      return skipString(i);
    if (c == '{' || c == '[') {
      const char close = c == '{' ? '}' : ']';
      i = skipWs(i + 1);
      if (i < s_.size() && s_[i] == close)
        return i + 1;
      while (i < s_.size()) {
        if (c == '{') {
          if (s_[i] != '"')
            return std::string::npos;
          i = skipWs(skipString(i));
          if (i >= s_.size() || s_[i] != ':')
            return std::string::npos;
          i = skipWs(i + 1);
        }
        i = skipValue(i, depth + 1);
        if (i == std::string::npos)
          return i;
        i = skipWs(i);
        if (i < s_.size() && s_[i] == ',') {
          i = skipWs(i + 1);
          continue;
        }
        if (i < s_.size() && s_[i] == close)
          return i + 1;
        return std::string::npos;
      }
      return std::string::npos;
    }
    // number, true, false, null
    size_t j = i;
    while (j < s_.size() && std::strchr(",}] \t\r\n", s_[j]) == nullptr)
      ++j;
    return j == i ? std::string::npos : j;
  }

  // The members of the object spanning `obj`.
  std::optional<std::vector<Member>> members(Span obj) const {
    std::vector<Member> out;
    size_t i = skipWs(obj.begin + 1);
    if (s_[i] == '}')
      return out;
    while (i < obj.end) {
      Member m;
      m.keyBegin = i;
      const size_t keyEnd = skipString(i);
      if (keyEnd == std::string::npos)
        return std::nullopt;
      m.key = s_.substr(i + 1, keyEnd - i - 2);
      i = skipWs(skipWs(keyEnd) + 1);  // past ':'
      m.value.begin = i;
      m.value.end = skipValue(i);
      if (m.value.end == std::string::npos)
        return std::nullopt;
      out.push_back(m);
      i = skipWs(m.value.end);
      if (s_[i] == '}')
        return out;
      i = skipWs(i + 1);  // past ','
    }
    return std::nullopt;
  }

  // The column of `pos` in its line.
  size_t column(size_t pos) const {
    const size_t nl = s_.rfind('\n', pos == 0 ? 0 : pos - 1);
    return nl == std::string::npos ? pos : pos - nl - 1;
  }

private:
  const std::string& s_;
};

Error bad(const std::string& why) { return Error(EINVAL, why); }

// The one member named `key`; an error if it is there twice.
Result<std::optional<Member>> findMember(const std::vector<Member>& ms, std::string_view key) {
  std::optional<Member> found;
  for (const auto& m : ms) {
    if (m.key != key)
      continue;
    if (found)
      return bad("the key \"" + std::string(key) + "\" appears twice");
    found = m;
  }
  return found;
}

// Where a new member goes in object `obj`: right after its '{', indented like
// its first member (or `fallbackIndent`), followed by a comma if the object
// had members.
std::string insertMember(const std::string& text, const Scanner& sc, Span obj,
                         const std::vector<Member>& ms, const std::string& key,
                         const std::string& value, size_t fallbackIndent) {
  const bool multiline = !ms.empty() && text.find('\n', obj.begin) < ms.front().keyBegin;
  const size_t indent = ms.empty() ? fallbackIndent : sc.column(ms.front().keyBegin);
  std::string member = "\"" + key + "\": " + indentAfterFirstLine(value, indent);
  std::string out = text.substr(0, obj.begin + 1);
  if (ms.empty()) {
    out += member;
    out += text.substr(obj.begin + 1);
    return out;
  }
  if (multiline) {  // not "\n" + std::string(...): g++ 12 -O2 warns -Wrestrict (a false positive)
    out += '\n';
    out.append(indent, ' ');
  }
  out += member + ",";
  if (!multiline)
    out += " ";
  // Continue with the old content from the first member, or the newline
  // before it (already replaced by our own).
  out += multiline ? text.substr(obj.begin + 1) : text.substr(ms.front().keyBegin);
  return out;
}

}  // namespace

std::string indentAfterFirstLine(const std::string& rendered, size_t indent) {
  std::string out;
  for (char c : rendered) {
    out += c;
    if (c == '\n')
      out.append(indent, ' ');
  }
  return out;
}

Result<std::string> replaceLinuxSeccomp(const std::string& text, const std::string& seccomp) {
  Scanner sc(text);
  const size_t start = sc.skipWs(0);
  if (start >= text.size() || text[start] != '{')
    return bad("not a JSON object");
  const Span root{start, sc.skipValue(start)};
  if (root.end == std::string::npos || sc.skipWs(root.end) != text.size())
    return bad("not one JSON object");
  auto rootMembers = sc.members(root);
  if (!rootMembers)
    return bad("not a JSON object");
  auto linux = findMember(*rootMembers, "linux");
  if (!linux)
    return std::move(linux).error();
  if (!*linux)
    return insertMember(text, sc, root, *rootMembers, "linux",
                        "{\n  \"seccomp\": " + indentAfterFirstLine(seccomp, 2) + "\n}", 2);
  const Span lx = (*linux)->value;
  if (text[lx.begin] != '{')
    return bad(".linux is not an object");
  auto linuxMembers = sc.members(lx);
  if (!linuxMembers)
    return bad(".linux is not an object");
  auto sec = findMember(*linuxMembers, "seccomp");
  if (!sec)
    return std::move(sec).error();
  if (!*sec)
    return insertMember(text, sc, lx, *linuxMembers, "seccomp", seccomp,
                        sc.column((*linux)->keyBegin) + 2);
  const Span v = (*sec)->value;
  return text.substr(0, v.begin) + indentAfterFirstLine(seccomp, sc.column((*sec)->keyBegin)) +
         text.substr(v.end);
}

}  // namespace extsys::agent
