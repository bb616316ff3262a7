#include "nereid/options.h"

#include <cstdlib>

namespace nereid {
namespace {

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? "" : v;
}

}  // namespace

Result<Mode> ParseMode(std::string_view text) {
  if (text == "async") return Mode::kAsync;
  if (text == "sync") return Mode::kSync;
  if (text == "offline") return Mode::kOffline;
  if (text == "read-only") return Mode::kReadOnly;
  if (text == "debug") return Mode::kDebug;
  return InvalidArgument("unknown mode '" + std::string(text) +
                         "' (async, sync, offline, read-only or debug)");
}

std::string_view ModeName(Mode mode) {
  switch (mode) {
    case Mode::kAsync:
      return "async";
    case Mode::kSync:
      return "sync";
    case Mode::kOffline:
      return "offline";
    case Mode::kReadOnly:
      return "read-only";
    case Mode::kDebug:
      return "debug";
  }
  return "async";
}

RunOptions ResolveOptions(RunOptions o) {
  auto fill = [](std::string* field, const char* env, const char* fallback) {
    if (!field->empty()) return;
    *field = Env(env);
    if (field->empty()) *field = fallback;
  };
  fill(&o.url, "NEREID_URL", "http://127.0.0.1:4870");
  fill(&o.api_token, "NEREID_API_TOKEN", "");
  fill(&o.project, "NEREID_PROJECT", "default/sandbox");
  fill(&o.spool_dir, "NEREID_HOME", ".nereid");
  if (!o.mode) {
    Result<Mode> m = ParseMode(Env("NEREID_MODE"));
    o.mode = m.ok() ? *m : Mode::kAsync;
  }
  return o;
}

}  // namespace nereid
