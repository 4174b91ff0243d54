// Package cli holds what the commands share: their exit statuses, the wrapper that turns a command's error into
// one, and the Ctrl-C handling of the training commands (finish the step, write a checkpoint, exit 130).
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/loraplus-go/loraplus/loraplus/train"
)

// Exit statuses of the commands.
const (
	ExitOK          = 0
	ExitError       = 1
	ExitUsage       = 2
	ExitInterrupted = 130 // 128 + SIGINT, as shells report a Ctrl-C
)

// Main runs the command name: parse reads args (-h gives ExitOK, any other error ExitUsage), then do runs the
// command with a Stopper watching for SIGINT and SIGTERM. An error wrapping train.ErrInterrupted gives
// ExitInterrupted, any other ExitError. Errors are printed on stderr as "name: error".
func Main[O any](name string, args []string, stderr io.Writer, parse func([]string) (O, error), do func(O, *Stopper) error) int {
	o, err := parse(args)
	if errors.Is(err, flag.ErrHelp) {
		return ExitOK
	}
	if err != nil {
		fmt.Fprintln(stderr, Message(name, err))
		return ExitUsage
	}
	st := NewStopper(name, stderr)
	defer st.Close()
	err = do(o, st)
	switch {
	case errors.Is(err, train.ErrInterrupted):
		fmt.Fprintln(stderr, Message(name, err))
		return ExitInterrupted
	case err != nil:
		fmt.Fprintln(stderr, Message(name, err))
		return ExitError
	}
	return ExitOK
}

// MainContext runs the command name as Main does, for commands with nothing to save on an interrupt: SIGINT or
// SIGTERM cancels the context that do gets, and an error do returns after that gives ExitInterrupted. A second
// signal ends the process as Go's default handling does.
func MainContext[O any](name string, args []string, stderr io.Writer, parse func([]string) (O, error), do func(context.Context, O) error) int {
	o, err := parse(args)
	if errors.Is(err, flag.ErrHelp) {
		return ExitOK
	}
	if err != nil {
		fmt.Fprintln(stderr, Message(name, err))
		return ExitUsage
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		stop() // the next signal takes Go's default action
	}()
	err = do(ctx, o)
	switch {
	case err != nil && ctx.Err() != nil:
		fmt.Fprintln(stderr, Message(name, fmt.Errorf("interrupted: %w", err)))
		return ExitInterrupted
	case err != nil:
		fmt.Fprintln(stderr, Message(name, err))
		return ExitError
	}
	return ExitOK
}

// Message is the line a command prints for err: "name: error". The packages a command calls prefix their errors
// with their own name (llama's with "llama: ", MMLU's with "mmlu: "), which for cmd/llama and cmd/mmlu is the
// command's name too; Message drops such a leading prefix so that it is not printed twice ("llama: llama: train").
func Message(name string, err error) string {
	msg := err.Error()
	for strings.HasPrefix(msg, name+": ") {
		msg = strings.TrimPrefix(msg, name+": ")
	}
	return name + ": " + msg
}

// Stopper stops the watched trainer on SIGINT or SIGTERM, so that it finishes its step and writes a checkpoint;
// a second signal exits at once with ExitInterrupted.
type Stopper struct{ *Interrupts }

// NewStopper starts watching for signals; messages go to stderr under the command's name.
func NewStopper(name string, stderr io.Writer) *Stopper {
	return &Stopper{NotifyInterrupts(
		func(sig os.Signal) {
			fmt.Fprintf(stderr, "\n%s: %v: finishing this step and writing a checkpoint (press again to quit at once)\n", name, sig)
		},
		func(sig os.Signal) {
			fmt.Fprintf(stderr, "\n%s: %v again: exiting without a checkpoint\n", name, sig)
			os.Exit(ExitInterrupted)
		})}
}
