#include "server/liveness.h"

#include <optional>
#include <string>
#include <variant>

namespace nereid::server {
namespace {

using query::Expr;

std::unique_ptr<Expr> Compare(std::string path, query::CompareOp op, query::Literal lit,
                              size_t position) {
  auto e = std::make_unique<Expr>();
  e->kind = Expr::Kind::kCompare;
  e->field = {std::move(path), query::Aggregate::kNone};
  e->op = op;
  e->literal = std::move(lit);
  e->position = position;
  return e;
}

}  // namespace

bool IsNotResponding(const store::RunInfo& run, int64_t now_us, int64_t threshold_us) {
  return run.state == store::RunState::kRunning && run.ping_time_us < now_us - threshold_us;
}

void ApplyLiveness(nlohmann::json& run_json, const store::RunInfo& run, int64_t now_us,
                   int64_t threshold_us) {
  if (IsNotResponding(run, now_us, threshold_us)) run_json["state"] = kNotResponding;
}

void ApplyLivenessToFields(nlohmann::json& rendered, const std::vector<store::Field>& fields,
                           int64_t now_us, int64_t threshold_us) {
  std::optional<size_t> state_index;
  std::optional<int64_t> ping_us;
  for (size_t i = 0; i < fields.size(); ++i) {
    if (fields[i].path == "sys/state") {
      const auto* s = std::get_if<std::string>(&fields[i].value);
      if (s != nullptr && *s == "running") state_index = i;
    } else if (fields[i].path == "sys/ping_time") {
      if (const auto* d = std::get_if<store::Datetime>(&fields[i].value)) ping_us = d->us;
    }
  }
  if (state_index && ping_us && *ping_us < now_us - threshold_us &&
      *state_index < rendered.size()) {
    rendered[*state_index]["value"] = kNotResponding;
  }
}

void RewriteLivenessFilter(std::unique_ptr<Expr>& expr, int64_t cutoff_us) {
  if (expr == nullptr) return;
  for (auto& child : expr->children) RewriteLivenessFilter(child, cutoff_us);
  if (expr->kind != Expr::Kind::kCompare || expr->field.path != "sys/state" ||
      expr->field.aggregate != query::Aggregate::kNone ||
      (expr->op != query::CompareOp::kEq && expr->op != query::CompareOp::kNe)) {
    return;
  }
  const auto* text = std::get_if<std::string>(&expr->literal);
  if (text == nullptr || (*text != kNotResponding && *text != "running")) return;
  bool stale = *text == kNotResponding;
  size_t pos = expr->position;
  auto both = std::make_unique<Expr>();
  both->kind = Expr::Kind::kAnd;
  both->position = pos;
  both->children.push_back(
      Compare("sys/state", query::CompareOp::kEq, std::string("running"), pos));
  both->children.push_back(Compare("sys/ping_time",
                                   stale ? query::CompareOp::kLt : query::CompareOp::kGe,
                                   static_cast<double>(cutoff_us), pos));
  if (expr->op == query::CompareOp::kEq) {
    expr = std::move(both);
    return;
  }
  auto negated = std::make_unique<Expr>();
  negated->kind = Expr::Kind::kNot;
  negated->position = pos;
  negated->children.push_back(std::move(both));
  expr = std::move(negated);
}

}  // namespace nereid::server
