// Names the calling thread after its role and node ("zpr:s1" is node s1's reactor), so top,
// perf and gdb tell a node's threads apart. Linux keeps 15 characters; longer names are cut.
#pragma once

#include <pthread.h>

#include <string>
#include <string_view>

namespace zpartisan::runtime {

inline void name_this_thread(std::string_view role, std::string_view node) {
    std::string name;
    name.append(role).append(":").append(node);
    name.resize(std::min<std::size_t>(name.size(), 15));
    (void)pthread_setname_np(pthread_self(), name.c_str());
}

}  // namespace zpartisan::runtime
