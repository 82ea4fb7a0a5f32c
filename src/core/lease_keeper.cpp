#include "core/lease_keeper.hpp"

#include "core/errors.hpp"

namespace lockrun {

namespace {
// SPEC §5's margin for the drift between our clock and the server's.
Millis drift_margin(Millis lease) {
    return lease / 100 + Millis(2);
}
}  // namespace

Clock::time_point lease_valid_until(Clock::time_point sent_at, Millis lease) {
    return sent_at + lease - drift_margin(lease);
}

LeaseKeeper::LeaseKeeper(Backend& backend, std::string token, Millis lease, Millis io_timeout,
                         Clock::time_point acquire_sent_at, bool expires)
    : backend_(&backend),
      token_(std::move(token)),
      lease_(lease),
      io_timeout_(io_timeout),
      expires_(expires),
      confirmed_sent_at_(acquire_sent_at),
      next_send_at_(acquire_sent_at + lease / 3) {}

Clock::time_point LeaseKeeper::valid_until() const {
    return expires_ ? lease_valid_until(confirmed_sent_at_, lease_) : Clock::time_point::max();
}

std::optional<Clock::time_point> LeaseKeeper::unattended_end() const {
    if (backend_ == nullptr || !expires_ || lost()) return std::nullopt;
    return valid_until() + drift_margin(lease_) / 2;
}

bool LeaseKeeper::valid_now() const {
    if (backend_ == nullptr) return true;
    return !lost() && Clock::now() < valid_until();
}

Deadline LeaseKeeper::next_wakeup() const {
    if (backend_ == nullptr || lost()) return Deadline::never();
    Clock::time_point next = in_flight_sent_at_ ? *in_flight_sent_at_ + io_timeout_ : next_send_at_;
    return Deadline(std::min(next, valid_until()));
}

int LeaseKeeper::poll_fd() const {
    return backend_ != nullptr && in_flight_sent_at_ ? backend_->renewal_fd() : -1;
}

void LeaseKeeper::on_wakeup() {
    if (backend_ == nullptr || lost()) return;
    if (in_flight_sent_at_) take_reply();
    if (lost()) return;
    Clock::time_point now = Clock::now();
    if (now >= valid_until()) {
        loss_reason_ = "no renewal was confirmed within the " + format_duration(lease_) + " lease" +
                       (last_failure_.empty() ? "" : " (" + last_failure_ + ")");
        return;
    }
    // A reply overdue by io_timeout is given up on; the next send starts afresh.
    if (in_flight_sent_at_ && now >= *in_flight_sent_at_ + io_timeout_) {
        in_flight_sent_at_.reset();
        last_failure_ = "a renewal got no reply within " + format_duration(io_timeout_);
        next_send_at_ = now;
    }
    send_if_due(now);
}

void LeaseKeeper::take_reply() {
    try {
        std::optional<bool> renewed = backend_->take_renewal_reply();
        if (!renewed) return;
        if (*renewed) {
            confirmed_sent_at_ = *in_flight_sent_at_;
            last_failure_.clear();
            if (reporter_) reporter_->debug("renewed the lease of " + key_);
        } else {
            loss_reason_ = "the lock was deleted or taken over by another holder";
        }
        in_flight_sent_at_.reset();
    } catch (const Error& e) {
        in_flight_sent_at_.reset();
        note_failure(e.what());
    }
}

void LeaseKeeper::note_failure(const std::string& failure) {
    // One warning for a run of failures, not one per retry.
    if (reporter_ && last_failure_.empty()) {
        reporter_->warn("renewing the lease of " + key_ + " failed (retrying): " + failure);
    }
    last_failure_ = failure;
    next_send_at_ = Clock::now() + retry_interval();
}

void LeaseKeeper::send_if_due(Clock::time_point now) {
    if (in_flight_sent_at_ || now < next_send_at_) return;
    try {
        // A lock without expiry still bounds the renewal's wait by a lease.
        Clock::time_point bound = expires_ ? valid_until() : now + std::max(lease_, io_timeout_);
        backend_->send_renewal(token_, lease_, Deadline(bound));
        in_flight_sent_at_ = now;
        next_send_at_ = now + lease_ / 3;
        // A backend that answers at once (local) needs no poll for its reply.
        take_reply();
    } catch (const Error& e) {
        note_failure(e.what());
    }
}

Millis LeaseKeeper::retry_interval() const {
    return std::clamp(lease_ / 10, Millis(20), Millis(1000));
}

}  // namespace lockrun
