package main

import (
	"fmt"
	"os"
	"syscall"
	"time"
	"unsafe"
)

// timerfd constants from <sys/timerfd.h>.
const (
	clockMonotonic = 1
	tfdNonblock    = syscall.O_NONBLOCK
	tfdCloexec     = syscall.O_CLOEXEC
)

type itimerspec struct {
	interval, value syscall.Timespec
}

// sleeper waits for short, precise intervals. Go's timers wake up to a
// millisecond late (the network poller waits in whole milliseconds), which
// would add most of a millisecond to every latency the rate scenario
// measures; a timerfd read through the poller wakes within tens of
// microseconds. It is not safe for concurrent use.
type sleeper struct {
	fd uintptr
	f  *os.File
	b  [8]byte
}

// newSleeper creates the timerfd.
func newSleeper() (*sleeper, error) {
	fd, _, errno := syscall.Syscall(syscall.SYS_TIMERFD_CREATE, clockMonotonic, tfdNonblock|tfdCloexec, 0)
	if errno != 0 {
		return nil, fmt.Errorf("timerfd_create: %w", errno)
	}
	// A non-blocking descriptor makes os.File read it through the poller.
	return &sleeper{fd: fd, f: os.NewFile(fd, "timerfd")}, nil
}

// sleep waits for d (more than 0).
func (s *sleeper) sleep(d time.Duration) error {
	spec := itimerspec{value: syscall.NsecToTimespec(int64(d))}
	if _, _, errno := syscall.Syscall6(syscall.SYS_TIMERFD_SETTIME, s.fd, 0, uintptr(unsafe.Pointer(&spec)), 0, 0, 0); errno != 0 {
		return fmt.Errorf("timerfd_settime: %w", errno)
	}
	if _, err := s.f.Read(s.b[:]); err != nil {
		return fmt.Errorf("read timerfd: %w", err)
	}
	return nil
}

func (s *sleeper) close() { s.f.Close() }
