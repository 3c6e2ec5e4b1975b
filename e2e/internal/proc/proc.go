//go:build unix

// Package proc keeps the processes an end-to-end run starts, so that the run stops each one
// by its id (never by name) when a check fails, when it ends and when it is interrupted. The
// real-server e2e and make versions both keep theirs in a Set.
package proc

import (
	"errors"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// A Set is the processes one run has started.
type Set struct {
	// Grace is how long a process has after its stop signal, and its group's stragglers after
	// it, before they get SIGKILL.
	Grace time.Duration

	mu       sync.Mutex
	list     []*Proc
	stopping bool // a StopAll is under way: nothing starts
	closed   bool // Shutdown has begun: nothing starts again

	stop sync.Mutex // held through each StopAll, so that a second one returns only after the first
}

// A Proc is one process of a Set: the leader of a process group of its own.
type Proc struct {
	Name string
	Cmd  *exec.Cmd
	stop syscall.Signal
	done chan struct{} // closed once the process has been waited for
}

// ErrStopping is what Start returns while the run is stopping.
var ErrStopping = errors.New("not started: the run is stopping")

// Start starts c in a process group of its own and records it; stop is the signal that shuts
// it down cleanly and fast. exited, if not nil, runs once the process has been waited for
// (to close its log, say).
func (s *Set) Start(name string, c *exec.Cmd, stop syscall.Signal, exited func()) (*Proc, error) {
	if c.SysProcAttr == nil {
		c.SysProcAttr = &syscall.SysProcAttr{}
	}
	c.SysProcAttr.Setpgid = true
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopping || s.closed {
		return nil, ErrStopping
	}
	if err := c.Start(); err != nil {
		return nil, err
	}
	p := &Proc{Name: name, Cmd: c, stop: stop, done: make(chan struct{})}
	go func() {
		c.Wait()
		if exited != nil {
			exited()
		}
		close(p.done)
	}()
	s.list = append(s.list, p)
	return p, nil
}

// Exited reports whether the process has ended and been waited for.
func (p *Proc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// group signals the process's whole group: pgpool's children outlive their parent when only
// it is stopped (seen: health check and pcp children kept 9999 and 9898 bound into the next
// run), and runuser's child is the server itself.
func (p *Proc) group(sig syscall.Signal) error { return syscall.Kill(-p.Cmd.Process.Pid, sig) }

// Halt stops one process: its stop signal to its group, then SIGKILL to the group if the
// leader has not ended within Grace; then the group's stragglers get Grace to end, and
// SIGKILL. A group is signalled only while a member is alive, which keeps its id the run's:
// no signal reaches a process the run did not start.
func (s *Set) Halt(p *Proc) {
	if !p.Exited() {
		p.group(p.stop)
		select {
		case <-p.done:
		case <-time.After(s.Grace):
			p.group(syscall.SIGKILL)
			<-p.done
		}
	}
	deadline := time.Now().Add(s.Grace)
	for time.Now().Before(deadline) && p.group(0) == nil {
		time.Sleep(50 * time.Millisecond)
	}
	if p.group(0) == nil {
		p.group(syscall.SIGKILL)
	}
	s.mu.Lock()
	for i, q := range s.list {
		if q == p {
			s.list = append(s.list[:i], s.list[i+1:]...)
			break
		}
	}
	s.mu.Unlock()
}

// StopAll stops every recorded process, newest first; nothing starts meanwhile. A StopAll
// called during another (an interrupt during the run's own cleanup) returns after it.
func (s *Set) StopAll() { s.stopAll(false) }

// Shutdown is StopAll, after which nothing starts again: a server that a parallel check
// starts while the run is ending cannot outlive it.
func (s *Set) Shutdown() { s.stopAll(true) }

func (s *Set) stopAll(final bool) {
	s.mu.Lock()
	if final {
		s.closed = true
	}
	s.mu.Unlock()
	s.stop.Lock()
	defer s.stop.Unlock()
	s.mu.Lock()
	s.stopping = true
	list := append([]*Proc(nil), s.list...)
	s.mu.Unlock()
	for i := len(list) - 1; i >= 0; i-- {
		s.Halt(list[i])
	}
	s.mu.Lock()
	s.stopping = false
	s.mu.Unlock()
}

// WaitFor polls cond every 100 ms until it holds or timeout passes (a server coming up, a
// port opening), and reports how long it took.
func WaitFor(timeout time.Duration, cond func() bool) (time.Duration, bool) {
	start := time.Now()
	for time.Since(start) < timeout {
		if cond() {
			return time.Since(start), true
		}
		time.Sleep(100 * time.Millisecond)
	}
	return time.Since(start), false
}
