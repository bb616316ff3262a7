// The Nereid C++ client library: include this one header.
#pragma once

#include "nereid/file.h"     // IWYU pragma: export
#include "nereid/git.h"      // IWYU pragma: export
#include "nereid/options.h"  // IWYU pragma: export
#include "nereid/run.h"      // IWYU pragma: export
#include "nereid/status.h"   // IWYU pragma: export
