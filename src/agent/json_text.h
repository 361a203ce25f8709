// SPDX-License-Identifier: MIT
// agent/json_text.h - editing one member of a JSON document as text, so
// that everything around it stays byte for byte: the key order, the spacing
// and every number as written (a JSON library that reads numbers as doubles
// turns 2^63 into 9223372036854776000; one that re-sorts keys rewrites the
// whole file).
#pragma once

#include <string>

#include "base/result.h"

namespace extsys::agent {

// `text` (a JSON object) with the value of `.linux.seccomp` replaced by
// `seccomp` (rendered JSON), or the member added: into `.linux` if it
// exists, else as a new `.linux` object. Nothing else changes. Fails on text
// that is not one JSON object, a `.linux` that is not an object, or a key
// given twice on the path.
[[nodiscard]] Result<std::string> replaceLinuxSeccomp(const std::string& text,
                                                      const std::string& seccomp);

// `rendered` (a multi-line JSON value) with every line after the first
// indented by `indent` spaces, to sit at that depth in a document.
std::string indentAfterFirstLine(const std::string& rendered, size_t indent);

}  // namespace extsys::agent
