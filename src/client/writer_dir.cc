#include "client/writer_dir.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

namespace nereid::client {

namespace fs = std::filesystem;

std::string SegmentPath(const std::string& dir, uint32_t number) {
  char name[32];
  std::snprintf(name, sizeof name, "/seg-%08u.nrs", number);
  return dir + name;
}

std::string EscapeDirName(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || (c == '.' && !out.empty())) {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out.empty() ? "%" : out;
}

std::string NewWriterId() {
  std::random_device rd;
  std::string out;
  for (int i = 0; i < 4; ++i) {
    char buf[9];
    std::snprintf(buf, sizeof buf, "%08x", static_cast<unsigned>(rd()));
    out += buf;
  }
  return out;
}

Status WriteWriterInfo(const std::string& dir, const WriterInfo& info) {
  nlohmann::json j = {{"url", info.url},
                      {"project", info.project},
                      {"custom_run_id", info.custom_run_id},
                      {"run_id", info.run_id},
                      {"writer_id", info.writer_id},
                      {"name", info.name},
                      {"description", info.description},
                      {"tags", info.tags},
                      {"mode", info.mode},
                      {"pid", info.pid}};
  std::string tmp = dir + "/writer.json.tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << j.dump(2) << "\n";
    if (!out) return Internal("cannot write " + tmp);
  }
  if (std::rename(tmp.c_str(), (dir + "/writer.json").c_str()) != 0) {
    return Internal("cannot rename " + tmp + ": " + std::strerror(errno));
  }
  return Status::Ok();
}

Result<WriterInfo> ReadWriterInfo(const std::string& dir) {
  std::ifstream in(dir + "/writer.json");
  if (!in) return NotFound("no writer.json in " + dir);
  std::stringstream ss;
  ss << in.rdbuf();
  nlohmann::json j = nlohmann::json::parse(ss.str(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) return DataLoss(dir + "/writer.json is not JSON");
  WriterInfo w;
  w.url = j.value("url", "");
  w.project = j.value("project", "");
  w.custom_run_id = j.value("custom_run_id", "");
  w.run_id = j.value("run_id", "");
  w.writer_id = j.value("writer_id", "");
  w.name = j.value("name", "");
  w.description = j.value("description", "");
  w.tags = j.value("tags", std::vector<std::string>{});
  w.mode = j.value("mode", "");
  w.pid = j.value("pid", int64_t{0});
  if (w.writer_id.empty()) return DataLoss(dir + "/writer.json has no writer_id");
  return w;
}

Result<int> LockWriterDir(const std::string& dir) {
  std::string path = dir + "/lock";
  int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return Internal("cannot open " + path + ": " + std::strerror(errno));
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    close(fd);
    return Unavailable(dir + " is being written by a live process");
  }
  return fd;
}

std::vector<std::string> ListWriterDirs(const std::string& home) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& run : fs::directory_iterator(home, ec)) {
    if (!run.is_directory()) continue;
    for (const auto& w : fs::directory_iterator(run.path(), ec)) {
      if (w.is_directory() && fs::exists(w.path() / "writer.json")) out.push_back(w.path());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<uint32_t> ListSegments(const std::string& dir) {
  std::vector<uint32_t> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    std::string n = e.path().filename();
    unsigned num = 0;
    if (n.size() == 16 && std::sscanf(n.c_str(), "seg-%8u.nrs", &num) == 1) out.push_back(num);
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace nereid::client
