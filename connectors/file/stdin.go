package file

// The source reads the process's standard input when file is unset, as
// Kafka's FileStreamSource does. One goroutine reads it for the life of
// the process and hands chunks to whichever task runs now: a read of
// standard input cannot be interrupted, so a task that stops must not take
// its pending read with it, or a restarted task would miss what it
// returned. Standard input has no offsets: what a task had read but not
// sent when it stopped, and what was sent before a restart, is not read
// again.

import (
	"os"
	"sync"
)

var (
	stdinOnce   sync.Once
	stdinChunks chan []byte // closed at end of input or on a read error
)

// stdin returns the chunks of standard input, starting the reader on
// first use.
func stdin() <-chan []byte {
	stdinOnce.Do(func() {
		stdinChunks = make(chan []byte, 16)
		in := os.Stdin
		go func() {
			defer close(stdinChunks)
			for {
				buf := make([]byte, 64<<10)
				n, err := in.Read(buf)
				if n > 0 {
					stdinChunks <- buf[:n]
				}
				// At the end of input (or a read error: nothing more can be
				// read either way) the task goes on waiting, as Kafka's does.
				if err != nil {
					return
				}
			}
		}()
	})
	return stdinChunks
}
