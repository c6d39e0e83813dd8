#include "fhirbridge/insitu_json.h"

#include <memory>

namespace fhirbridge {

struct InsituJson::Scratch {
  std::string text;
  std::unique_ptr<char[]> pool = std::make_unique<char[]>(kPoolBytes);
  bool in_use = false;
};

InsituJson::InsituJson(std::string_view text) {
  thread_local Scratch scratch;
  std::string* copy = &own_text_;
  if (!scratch.in_use) {
    scratch.in_use = true;
    scratch_ = &scratch;
    copy = &scratch.text;
    pool_.emplace(scratch.pool.get(), kPoolBytes);
  } else {
    pool_.emplace();
  }
  copy->assign(text);
  doc_.emplace(&*pool_);
  doc_->ParseInsitu(copy->data());  // the copy ends in a NUL, which the parser takes as the end
}

InsituJson::~InsituJson() {
  doc_.reset();  // before the pool its nodes live in
  pool_.reset();
  if (scratch_ == nullptr) return;
  if (scratch_->text.capacity() > kKeptTextBytes) std::string().swap(scratch_->text);
  scratch_->in_use = false;
}

}  // namespace fhirbridge
