// A dial to a server's ROUTER and its handshake (docs/protocol.md §3): who answered, and when
// the next hello is due. A hello goes again while the dial is unanswered, or while the peer
// it reached is seen down (a restarted one must hear us again), never after a refusal; each
// unanswered hello doubles the wait up to a bound, less up to a quarter drawn from the seeded
// generator, so joiners that started together (a join storm) spread their repeats instead of
// reaching a busy server in waves. Also what a join() dials for. Pure: time is now_ms.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <random>
#include <string>

namespace zpartisan::core {

// The wait before a hello is repeated: first_ms, doubling per unanswered hello up to max_ms.
struct hello_backoff {
    std::uint64_t first_ms = 500;
    std::uint64_t max_ms = 5000;
};

struct dial_state {
    std::string peer;          // the name the welcome gave; empty before
    std::string pub_endpoint;  // subscribed after the welcome
    bool welcomed = false;
    bool refused = false;  // stop re-sending hello to a peer that refused us
    std::uint64_t hello_sent_ms = 0;
    std::uint64_t dialed_ms = 0;  // when the dial began
    std::uint64_t retry_ms = 0;   // the current wait; 0: first_ms

    // Whether a hello is due now (peer_up: the welcomed peer is up). When it is, the wait
    // before the next one grows; once answered and up, it starts again from first_ms.
    template <class Rng>
    bool take_hello_due(bool peer_up, std::uint64_t now_ms, const hello_backoff& backoff, Rng& rng) {
        if (welcomed && peer_up) {
            retry_ms = 0;
            return false;
        }
        const auto wait = current_wait(backoff);
        if (refused || now_ms < hello_sent_ms + wait) return false;
        const auto next = std::min(wait * 2, std::max(backoff.max_ms, backoff.first_ms));
        retry_ms = next - std::uniform_int_distribution<std::uint64_t>(0, next / 4)(rng);
        return true;
    }
    // When take_hello_due next has work: now when an answered dial's wait must start again;
    // nullopt when only an input can make a hello due (answered and up, or refused).
    [[nodiscard]] std::optional<std::uint64_t> next_hello_ms(bool peer_up, std::uint64_t now_ms,
                                                             const hello_backoff& backoff) const {
        if (welcomed && peer_up) return retry_ms != 0 ? std::optional<std::uint64_t>(now_ms) : std::nullopt;
        if (refused) return std::nullopt;
        return hello_sent_ms + current_wait(backoff);
    }

private:
    [[nodiscard]] std::uint64_t current_wait(const hello_backoff& backoff) const {
        return retry_ms == 0 ? backoff.first_ms : retry_ms;
    }
};

// An endpoint dialed because of join() (or a referral, or a client's move to a new home).
struct join_target {
    std::string origin;  // the endpoint the application asked for (referrals keep it)
    int referrals = 0;
    std::string expected_name;  // join by spec: who should answer at origin; empty after a referral
    std::string server_key;     // the CurveZMQ key the application or a referral named
    // Still pending when another join target's welcome gave us our home: another way in
    // asked for at the same time (--join s1,s2), not a move to this server.
    bool alternative = false;
};

}  // namespace zpartisan::core
