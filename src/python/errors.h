// The one place where nereid::Status becomes a Python exception (STYLE.md rule 2).
//
// The exception classes live in nereid._core and are re-exported by nereid.exceptions. Each one
// also derives from the built-in exception a Python user would catch (ValueError, TypeError,
// LookupError, PermissionError, ConnectionError), so generic handlers keep working.
#pragma once

#include <pybind11/pybind11.h>

#include "nereid/status.h"

namespace nereid::python {

// Creates the exception classes as attributes of `m`. Call once, from the module's init, with
// the GIL held.
void RegisterExceptions(pybind11::module_& m);

// Sets the Python exception that matches `status` (which must not be OK) and throws
// pybind11::error_already_set. Needs the GIL.
[[noreturn]] void ThrowStatus(const Status& status);

}  // namespace nereid::python
