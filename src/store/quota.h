// The workspace storage quota's rule, shared by the backends: what a refusal says, for a run's
// batch and for a notebook checkpoint alike (one message shape, one 507 quota_exceeded). The
// backends supply the figures, read by SQL inside the transaction that writes.
//
// What counts against a workspace's quota: the stored size of its runs (runs.size_bytes) plus the
// size of every notebook checkpoint of its projects. A checkpoint counts once per notebook that
// has it: uploading content a notebook already has adds nothing (the existing checkpoint is
// returned), while the same content in two notebooks counts twice, like a file logged by two runs
// (the blob store keeps one copy either way; the quota charges what each project holds).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "nereid/status.h"

namespace nereid::store {

// OK when there is no quota or the write does not take `used_before` past it; a write that does
// not grow usage (grew <= 0) always passes. Else QuotaExceeded naming the workspace, the usage,
// the quota and what `what` ("this batch", "this notebook checkpoint") needs.
Status CheckQuota(std::string_view workspace, std::optional<int64_t> quota, int64_t used_before,
                  int64_t grew, std::string_view what);

}  // namespace nereid::store
