// The web UI's built files (web/dist), embedded in the binary at build time by
// nereid_webui_embed_gen (see cmake/EmbedWeb.cmake), so the server works offline as one file.
//
// Thread-safety: immutable static data; every function may be called from any thread.
#pragma once

#include <cstddef>
#include <span>
#include <string_view>

namespace nereid::webui {

struct Asset {
  std::string_view path;          // URL path: "/index.html", "/assets/index-3f2a.js"
  std::string_view content_type;  // "text/javascript; charset=utf-8"
  std::string_view etag;          // quoted strong ETag of the bytes
  const char* data;               // static storage; never freed
  size_t size;
  // The same bytes gzip-compressed at build time, for clients that accept gzip; null when the
  // type does not compress (images) or compressing saved too little to be worth a second copy.
  const char* gzip;
  size_t gzip_size;
  std::string_view gzip_etag;  // a strong ETag of its own: a different representation
};

// Every embedded file, sorted by path. Defined in the generated webui_assets.cc.
std::span<const Asset> Assets();

// The asset at exactly `path`, or null.
const Asset* FindAsset(std::string_view path);

}  // namespace nereid::webui
