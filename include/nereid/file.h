// File: a file value to upload, either bytes held in memory or a path on local disk.
//
// A value type (copying copies the bytes). Thread-safety: a value; distinct objects may be used
// from distinct threads.
#pragma once

#include <string>
#include <string_view>

namespace nereid {

class File {
 public:
  // A file on disk. Its content is copied into the run's spool when it is logged, so the
  // original may change or disappear afterwards. name defaults to the path's last component.
  static File FromPath(std::string path, std::string name = "");
  // Bytes in memory. content_type empty: the server guesses from name's extension.
  static File FromBytes(std::string bytes, std::string name, std::string content_type = "");
  // An encoded image (PNG by default), e.g. for run["eval/img"].Append(File::Image(png)).
  static File Image(std::string bytes, std::string name = "image.png",
                    std::string content_type = "image/png");
  // Same as Image, spelled as in the Python API.
  static File image(std::string bytes) { return Image(std::move(bytes)); }

  bool from_path() const { return from_path_; }
  const std::string& path() const { return path_; }
  const std::string& bytes() const { return bytes_; }
  const std::string& name() const { return name_; }
  const std::string& content_type() const { return content_type_; }

 private:
  bool from_path_ = false;
  std::string path_;
  std::string bytes_;
  std::string name_;
  std::string content_type_;
};

}  // namespace nereid
