package cli

import (
	"os"
	"os/signal"
	"sync"
	"syscall"
)

// Stoppable is a training run that can be asked to finish its current step, write a checkpoint and return.
type Stoppable interface {
	Stop()
}

// Interrupts turns SIGINT and SIGTERM into a Stop of the run in progress. A signal that arrives between runs stops
// the next one as soon as it is watched. A second signal calls again (a command prints and exits there).
type Interrupts struct {
	mu      sync.Mutex
	current Stoppable
	stopped bool
	ch      chan os.Signal
	done    chan struct{}
}

// NotifyInterrupts starts watching for SIGINT and SIGTERM. first is called on the first signal, again on any later
// one. Close stops watching.
func NotifyInterrupts(first, again func(os.Signal)) *Interrupts {
	s := &Interrupts{ch: make(chan os.Signal, 2), done: make(chan struct{})}
	signal.Notify(s.ch, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		for {
			select {
			case <-s.done:
				return
			case sig := <-s.ch:
				s.mu.Lock()
				repeated := s.stopped
				s.stopped = true
				tr := s.current
				s.mu.Unlock()
				if repeated {
					again(sig)
					continue
				}
				first(sig)
				if tr != nil {
					tr.Stop()
				}
			}
		}
	}()
	return s
}

// Watch makes tr the run a signal stops (at once, when a signal came earlier) until the returned release is called.
func (s *Interrupts) Watch(tr Stoppable) (release func()) {
	s.mu.Lock()
	s.current = tr
	if s.stopped {
		tr.Stop()
	}
	s.mu.Unlock()
	return func() {
		s.mu.Lock()
		s.current = nil
		s.mu.Unlock()
	}
}

// Close stops watching for signals.
func (s *Interrupts) Close() {
	signal.Stop(s.ch)
	close(s.done)
}

// Signalled reports whether a signal has arrived.
func (s *Interrupts) Signalled() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stopped
}
