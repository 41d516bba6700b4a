// Python semantics for the operators, subscripts and iteration a template can apply to values.
// Failures throw TemplateError without an offset (the evaluator adds it).
#pragma once
#include <string>

#include "tokenizer/jinja/ast.h"
#include "tokenizer/jinja/value.h"

namespace dsv2::jinja {

// Every BinaryOp except And/Or, which the evaluator short-circuits.
Value binary_op(BinaryOp op, const Value& a, const Value& b);
Value negate(const Value& v);
bool contains(const Value& container, const Value& item);  // item in container
// container[start:stop:step]; an Undefined or None bound means "left out".
Value slice(const Value& container, const Value& start, const Value& stop, const Value& step);
Value get_item(const Value& container, const Value& key);  // container[key]
Value get_attr(const Value& object, const std::string& name);  // object.name
List iterate(const Value& v);  // the items a for loop visits
// Undefined is allowed where Jinja allows it (printing, testing, iterating); other uses fail
// with the reason it is undefined.
void require_defined(const Value& v);

}  // namespace dsv2::jinja
