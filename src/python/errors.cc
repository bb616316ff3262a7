#include "python/errors.h"

#include <Python.h>

namespace nereid::python {
namespace {

namespace py = pybind11;

// Owned by the module for the life of the interpreter; never freed (the module is never
// unloaded), so plain pointers are enough.
PyObject* g_base = nullptr;
PyObject* g_value = nullptr;
PyObject* g_type = nullptr;
PyObject* g_not_found = nullptr;
PyObject* g_auth = nullptr;
PyObject* g_unavailable = nullptr;
PyObject* g_stopped = nullptr;

PyObject* Make(py::module_& m, const char* name, PyObject* builtin, const char* doc) {
  std::string qualified = std::string("nereid.") + name;
  PyObject* bases = builtin ? PyTuple_Pack(2, g_base, builtin) : PyTuple_Pack(1, PyExc_Exception);
  PyObject* cls = PyErr_NewExceptionWithDoc(qualified.c_str(), doc, bases, nullptr);
  Py_DECREF(bases);
  if (cls == nullptr) throw py::error_already_set();
  m.attr(name) = py::handle(cls);
  return cls;
}

}  // namespace

void RegisterExceptions(py::module_& m) {
  g_base = Make(m, "NereidError", nullptr, "Base class of every error raised by nereid.");
  g_value = Make(m, "NereidValueError", PyExc_ValueError,
                 "A malformed argument: an invalid path, option or value.");
  g_type = Make(m, "NereidTypeError", PyExc_TypeError,
                "A value whose type does not match the field's type.");
  g_not_found = Make(m, "NotFoundError", PyExc_LookupError,
                     "The run, project, field or file does not exist.");
  g_auth = Make(m, "AuthenticationError", PyExc_PermissionError,
                "The API token is missing, invalid, or lacks the right to do this.");
  g_unavailable = Make(m, "UnavailableError", PyExc_ConnectionError,
                       "The server could not be reached in time; the data stays in the spool.");
  g_stopped = Make(m, "RunStoppedError", PyExc_RuntimeError,
                   "A log call on a run after its stop(). (A read-only run refuses log calls with "
                   "AuthenticationError.)");
}

void ThrowStatus(const Status& status) {
  PyObject* cls = g_base;
  switch (status.code()) {
    case StatusCode::kInvalidArgument:
    case StatusCode::kPayloadTooLarge:
    case StatusCode::kAlreadyExists:
      cls = g_value;
      break;
    case StatusCode::kTypeConflict:
      cls = g_type;
      break;
    case StatusCode::kNotFound:
      cls = g_not_found;
      break;
    case StatusCode::kUnauthenticated:
    case StatusCode::kPermissionDenied:
      cls = g_auth;
      break;
    case StatusCode::kUnavailable:
    case StatusCode::kRateLimited:
      cls = g_unavailable;
      break;
    case StatusCode::kCancelled:
      cls = g_stopped;
      break;
    default:
      break;
  }
  PyErr_SetString(cls, status.message().c_str());
  throw py::error_already_set();
}

}  // namespace nereid::python
