// Fuzzes the notebook parser and differ (POST .../notebooks/checkpoints, GET .../notebooks/diff):
// ParseNotebook over any bytes, then DiffNotebooks. The input is one notebook, or two separated
// by a NUL byte (JSON text cannot hold a raw NUL, so the split never cuts a valid notebook).
// Properties besides "no crash, no UB, no leak": a notebook diffed against itself is all
// "unchanged", and every diff renders as JSON the way the server renders responses.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "server/notebook_diff.h"

namespace {

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "notebook fuzzer: %s\n", what);
    std::abort();
  }
}

std::string Render(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  size_t nul = in.find('\0');
  std::string_view first = in.substr(0, nul);
  auto a = nereid::server::ParseNotebook(first);
  if (!a.ok()) {
    Check(!a.status().message().empty(), "a rejected notebook has no message");
    return 0;
  }
  auto self = nereid::server::DiffNotebooks(*a, *a);
  Check(self["summary"]["unchanged"] == a->size(), "a notebook differs from itself");
  Check(self["summary"]["modified"] == 0 && self["summary"]["added"] == 0 &&
            self["summary"]["removed"] == 0,
        "a notebook diffed against itself reports changes");
  (void)Render(self);
  (void)Render(nereid::server::DiffNotebooks(*a, {}));
  if (nul != std::string_view::npos) {
    auto b = nereid::server::ParseNotebook(in.substr(nul + 1));
    if (b.ok()) {
      auto d = nereid::server::DiffNotebooks(*a, *b);
      const auto& s = d["summary"];
      Check(
          s["unchanged"].get<size_t>() + s["modified"].get<size_t>() + s["removed"].get<size_t>() ==
                  a->size() &&
              s["unchanged"].get<size_t>() + s["modified"].get<size_t>() +
                      s["added"].get<size_t>() ==
                  b->size(),
          "diff summary does not account for every cell");
      (void)Render(d);
    }
  }
  return 0;
}
