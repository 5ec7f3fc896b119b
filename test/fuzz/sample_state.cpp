#include "sample_state.hpp"

#include <string>

namespace zpartisan::fuzz {

node_spec sample_spec(const char* name, role r, std::uint64_t incarnation) {
    node_spec spec;
    spec.name = name;
    spec.role = r;
    spec.router_endpoint = std::string("tcp://10.0.0.1:") + (r == role::server ? "7000" : "7100");
    if (r == role::server)
        spec.pub_endpoint = "tcp://10.0.0.1:7001";
    else
        spec.home_server = "s1";
    spec.incarnation = incarnation;
    return spec;
}

const core::membership_set& sample_membership() {
    static const core::membership_set set = [] {
        core::membership_set s1("s1/3");
        core::membership_set s2("s2/1");
        (void)s1.add(sample_spec("s1", role::server, 3));
        (void)s2.add(sample_spec("s2", role::server, 1));
        (void)s2.add(sample_spec("c1", role::client, 5));
        (void)s2.add(sample_spec("c2", role::client, 2));
        (void)s2.remove("c2");
        (void)s1.join(s2.state());
        (void)s1.add(sample_spec("c1", role::client, 6));  // c1 restarted
        return s1;
    }();
    return set;
}

}  // namespace zpartisan::fuzz
