#include "client/refused_log.h"

#include <fcntl.h>
#include <google/protobuf/util/json_util.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "client/records.h"

namespace nereid::client {
namespace {

namespace fs = std::filesystem;

const char* TypeName(RecordType t) {
  switch (t) {
    case RecordType::kFloatPoint:
      return "a float point of";
    case RecordType::kStringPoint:
      return "a string point of";
    case RecordType::kAssign:
      return "an assignment to";
    case RecordType::kAddStrings:
      return "an addition to the string set";
    case RecordType::kRemoveStrings:
      return "a removal from the string set";
    case RecordType::kFilePoint:
      return "a file point of";
    case RecordType::kFloatPoints:
      return "float points of";
    case RecordType::kEnd:
      break;
  }
  return "a record of";
}

std::string Base64(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(bytes.data()),
                          static_cast<int>(bytes.size()));
  out.resize(n < 0 ? 0 : static_cast<size_t>(n));
  return out;
}

// The record as the batch it would have been sent in; empty when it does not decode.
v1::Batch Decode(const SpoolRecord& rec) {
  BatchBuilder b;
  if (!b.Add(rec)) return {};
  return b.Take();
}

}  // namespace

std::string RefusedPath(const std::string& dir) {
  fs::path p = fs::path(dir).lexically_normal();
  if (p.filename().empty()) p = p.parent_path();  // "…/<writer>/"
  return (p.parent_path() / (p.filename().string() + ".refused.jsonl")).string();
}

std::string RefusedFilesDir(const std::string& dir) {
  std::string jsonl = RefusedPath(dir);
  return jsonl.substr(0, jsonl.size() - std::string_view(".refused.jsonl").size()) +
         ".refused-files";
}

Status KeepRefusedFiles(const std::string& dir, const std::vector<std::string>& shas,
                        std::vector<std::string>* kept) {
  if (shas.empty()) return Status::Ok();
  const fs::path to = RefusedFilesDir(dir);
  std::error_code ec;
  fs::create_directories(to, ec);
  if (ec) return Internal("cannot create " + to.string() + ": " + ec.message());
  for (const std::string& sha : shas) {
    const fs::path from = fs::path(dir) / "blobs" / sha;
    const fs::path target = to / sha;
    if (!fs::exists(target, ec)) {
      fs::create_hard_link(from, target, ec);
      if (ec) {
        ec.clear();
        fs::copy_file(from, target, ec);
      }
      if (ec) {
        const std::string why = ec.message();
        fs::remove(target, ec);  // never a short copy under the content's name
        return Internal("cannot keep " + from.string() + " in " + to.string() + ": " + why);
      }
    }
    kept->push_back(target.string());
  }
  return Status::Ok();
}

std::string DescribeRecord(const SpoolRecord& rec) {
  std::string what = TypeName(rec.type);
  if (rec.type == RecordType::kFloatPoints) what = std::to_string(RecordEntries(rec)) + " " + what;
  v1::Batch b = Decode(rec);
  if (b.operations_size() == 0) return what + " a path that does not decode";
  return what + " '" + b.operations(0).path() + "'";
}

Status AppendRefused(const std::string& dir, const SpoolRecord& rec, const RefusedRecord& why) {
  nlohmann::json line = {
      {"segment", why.at.segment},
      {"offset", why.at.offset},
      {"sequence", why.sequence},
      {"http_status", why.http_status},
      {"code", why.code},
      {"message", why.message},
      {"record_type", static_cast<int>(rec.type)},
      {"record_flags", static_cast<int>(rec.flags)},
      {"what", DescribeRecord(rec)},
      {"payload_base64", Base64(rec.payload)},
  };
  if (!why.kept_files.empty()) line["kept_files"] = why.kept_files;
  v1::Batch b = Decode(rec);
  if (b.operations_size() > 0) {
    std::string ops;
    google::protobuf::util::JsonPrintOptions options;
    options.preserve_proto_field_names = true;
    if (google::protobuf::util::MessageToJsonString(b, &ops, options).ok()) {
      nlohmann::json j = nlohmann::json::parse(ops, nullptr, false);
      if (!j.is_discarded() && j.contains("operations")) line["operations"] = j["operations"];
    }
  }
  // Invalid UTF-8 (a string the server refused for it) is replaced, not thrown on: the exact
  // bytes are in payload_base64.
  std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  std::string path = RefusedPath(dir);
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) return Internal("cannot open " + path + ": " + std::strerror(errno));
  off_t end = lseek(fd, 0, SEEK_END);
  ssize_t n = write(fd, text.data(), text.size());
  int err = n < 0 ? errno : ENOSPC;
  if (n != static_cast<ssize_t>(text.size())) {
    if (n > 0 && end >= 0 && ftruncate(fd, end) != 0) err = errno;
    close(fd);
    return Status(err == ENOSPC || err == EDQUOT || err == EFBIG ? StatusCode::kInsufficientStorage
                                                                 : StatusCode::kInternal,
                  "cannot write " + path + ": " + std::strerror(err));
  }
  close(fd);
  return Status::Ok();
}

}  // namespace nereid::client
