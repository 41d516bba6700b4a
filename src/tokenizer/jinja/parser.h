// Recursive-descent parser for the Jinja subset chat templates use. Operator precedence and the
// places where filters and tests bind follow Jinja's own grammar, so that e.g.
// `'a' + x | upper` means 'a' + (x | upper), as in Jinja.
#pragma once
#include <vector>

#include "tokenizer/jinja/ast.h"
#include "tokenizer/jinja/lexer.h"

namespace dsv2::jinja {

// Throws TemplateError naming the offending construct (unknown tag, filter or test, unclosed
// block, syntax error) at its offset.
Body parse(std::vector<Token> tokens);

}  // namespace dsv2::jinja
