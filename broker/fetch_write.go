package broker

// Writing Fetch responses. Record batches go from the segment files to the
// socket without passing through Go memory: the response is framed here,
// around the batches, and each partition's batches follow their length
// prefix as sendfile(2) calls from the segment file at the batch's offset.
//
// The framing is written by hand because kmsg can only encode a response
// whose record bytes are in memory. It is byte for byte what kmsg encodes
// for the same response (fetch_write_internal_test.go checks every version,
// flexible and not, with sessions, errors and aborted transactions), and it
// covers what the broker puts in a response: anything else (a non-default
// tagged field) takes kmsg's encoder with the batches read into memory.
//
// Where sendfile cannot serve (a connection that is not a socket, or a file
// system without sendfile), the batches are read with pread and written
// together with the framing as one writev (net.Buffers).
//
// A section holds a reference to its segment until it is released, after
// the last byte of the response is handed to the kernel: so retention or
// compaction removing the segment meanwhile leaves its descriptor open and
// its bytes unchanged, and once handed over the kernel holds the pages.

import (
	"bufio"
	"cmp"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"os"
	"syscall"

	"github.com/twmb/franz-go/pkg/kbin"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// fetchWriteMode is how a connection sends record data.
type fetchWriteMode uint8

const (
	// fetchSendfile frames by hand and sends batches with sendfile.
	fetchSendfile fetchWriteMode = iota + 1
	// fetchWritev frames by hand, preads the batches and writes framing
	// and batches in one writev.
	fetchWritev
	// fetchKmsg reads the batches into the response and lets kmsg encode
	// it: the path for responses the hand framing does not cover (and, in
	// tests, the reference the other two are compared with).
	fetchKmsg
)

// writeFetch writes a Fetch response whose batches are in c.fetch, flushing
// bw when flush is set, and releases c.fetch. It reports whether the
// connection can go on. The request is finished: nothing of a Fetch
// response refers to its frame.
func (c *clientConn) writeFetch(bw *bufio.Writer, req *request, resp *kmsg.FetchResponse, flush bool) bool {
	defer c.fetch.release()
	mode := c.fetchMode
	if !handFramed(resp) {
		mode = fetchKmsg
	}
	var err error
	switch mode {
	case fetchKmsg:
		err = c.writeFetchKmsg(bw, req, resp, flush)
	default:
		framing, cuts := appendFetchFraming(responsePool.get(0, 4<<10), req.correlationID, resp, &c.fetch)
		if mode == fetchSendfile {
			err = c.sendFetch(bw, framing, cuts, flush)
		} else {
			err = c.writevFetch(bw, framing, cuts, flush)
		}
		responsePool.put(framing)
	}
	if err != nil {
		c.logger.Debug("closing connection", "api", "Fetch", "reason", err)
		return false
	}
	return true
}

// writeFetchKmsg reads every section into the response and writes it as
// any other response.
func (c *clientConn) writeFetchKmsg(bw *bufio.Writer, req *request, resp *kmsg.FetchResponse, flush bool) error {
	buf := fetchPool.get(0, int(c.fetch.size()))
	defer func() { fetchPool.put(buf) }()
	for _, part := range c.fetch.parts {
		start := len(buf)
		var err error
		if buf, err = c.fetch.appendPart(buf, part); err != nil {
			return err
		}
		resp.Topics[part.topic].Partitions[part.partition].RecordBatches = buf[start:len(buf):len(buf)]
	}
	out := c.appendResponse(responsePool.get(0, len(buf)+4<<10), req, resp)
	err := writeTail(bw, out, flush)
	responsePool.put(out)
	return err
}

// sendFetch writes the framing pieces with MSG_MORE (so the kernel joins
// them with the data that follows) and each section with sendfile. Only
// the last piece goes through bw, so it can share a write with the next
// pipelined response.
func (c *clientConn) sendFetch(bw *bufio.Writer, framing []byte, cuts []int, flush bool) error {
	if err := bw.Flush(); err != nil { // earlier responses go first
		return err
	}
	prev := 0
	for i, part := range c.fetch.parts {
		if err := c.sendMore(framing[prev:cuts[i]]); err != nil {
			return err
		}
		prev = cuts[i]
		for s := part.from; s < part.to; s++ {
			if err := c.sendSection(s); err != nil {
				return err
			}
		}
	}
	return writeTail(bw, framing[prev:], flush)
}

// writeTail writes the end of a response through bw, flushing it when
// flush is set.
func writeTail(bw *bufio.Writer, tail []byte, flush bool) error {
	if _, err := bw.Write(tail); err != nil {
		return err
	}
	if flush {
		return bw.Flush()
	}
	return nil
}

// sendMore writes p to the socket with MSG_MORE.
func (c *clientConn) sendMore(p []byte) error {
	return c.writeRaw(func(fd int) (bool, error) {
		n, err := syscall.SendmsgN(fd, p, nil, nil, syscall.MSG_MORE)
		if n > 0 {
			p = p[n:]
		}
		return len(p) == 0, err
	})
}

// writeRaw calls write with the socket's descriptor until it reports done
// or fails, waiting for the socket to be writable after EAGAIN.
func (c *clientConn) writeRaw(write func(fd int) (done bool, err error)) error {
	var werr error
	err := c.raw.Write(func(fd uintptr) bool {
		for {
			done, err := write(int(fd))
			switch {
			case errors.Is(err, syscall.EAGAIN):
				return false // wait until writable
			case errors.Is(err, syscall.EINTR):
			case err != nil:
				werr = err
				return true
			case done:
				return true
			}
		}
	})
	return cmp.Or(err, werr)
}

// sendSection sends section i with sendfile from its file offset (never
// the descriptor's own offset, which other readers share). A file system
// that does not do sendfile gets a pread and a write instead, for this and
// every later response of the connection.
func (c *clientConn) sendSection(i int) error {
	sec := &c.fetch.sections[i]
	remain := sec.Size()
	err := sec.WithFile(func(f *os.File, pos int64) error {
		src, err := f.SyscallConn()
		if err != nil {
			return err
		}
		var serr error
		cerr := src.Control(func(sfd uintptr) {
			serr = c.writeRaw(func(dfd int) (bool, error) {
				n, err := syscall.Sendfile(dfd, int(sfd), &pos, int(min(remain, 1<<30)))
				if n > 0 {
					remain -= int64(n)
				}
				if err == nil && n == 0 && remain > 0 {
					return true, io.ErrUnexpectedEOF // the file is shorter than the section
				}
				return remain == 0, err
			})
		})
		return cmp.Or(cerr, serr)
	})
	if err != nil && remain == sec.Size() && (errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.ENOSYS) || errors.Is(err, syscall.EOPNOTSUPP)) {
		c.fetchMode = fetchWritev
		buf, err := sec.AppendTo(fetchPool.get(0, int(sec.Size())))
		if err == nil {
			_, err = c.nc.Write(buf)
		}
		fetchPool.put(buf)
		return err
	}
	return err
}

// writevFetch preads every section and writes framing and batches with
// one writev.
func (c *clientConn) writevFetch(bw *bufio.Writer, framing []byte, cuts []int, flush bool) error {
	data := fetchPool.get(0, int(c.fetch.size()))
	defer func() { fetchPool.put(data) }()
	bufs := make(net.Buffers, 0, 2*len(c.fetch.parts)+1)
	prev := 0
	for i, part := range c.fetch.parts {
		bufs = append(bufs, framing[prev:cuts[i]])
		prev = cuts[i]
		start := len(data)
		var err error
		if data, err = c.fetch.appendPart(data, part); err != nil {
			return err
		}
		bufs = append(bufs, data[start:])
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	if _, err := bufs.WriteTo(c.nc); err != nil {
		return err
	}
	return writeTail(bw, framing[prev:], flush)
}

// appendPart reads part's sections into dst.
func (r *fetchRecords) appendPart(dst []byte, part fetchedPart) ([]byte, error) {
	for i := part.from; i < part.to; i++ {
		var err error
		if dst, err = r.sections[i].AppendTo(dst); err != nil {
			return dst, err
		}
	}
	return dst, nil
}

// size is the bytes of every section.
func (r *fetchRecords) size() int64 {
	var n int64
	for _, p := range r.parts {
		n += p.size
	}
	return n
}

// handFramed reports whether appendFetchFraming encodes resp as kmsg
// would: every tagged field at its default, so none is sent.
func handFramed(resp *kmsg.FetchResponse) bool {
	if resp.UnknownTags.Len() > 0 || len(resp.Brokers) > 0 {
		return false
	}
	for ti := range resp.Topics {
		t := &resp.Topics[ti]
		if t.UnknownTags.Len() > 0 {
			return false
		}
		for pi := range t.Partitions {
			p := &t.Partitions[pi]
			if p.UnknownTags.Len() > 0 ||
				p.DivergingEpoch.Epoch != -1 || p.DivergingEpoch.EndOffset != -1 || p.DivergingEpoch.UnknownTags.Len() > 0 ||
				p.CurrentLeader.LeaderID != -1 || p.CurrentLeader.LeaderEpoch != -1 || p.CurrentLeader.UnknownTags.Len() > 0 ||
				p.SnapshotID.EndOffset != -1 || p.SnapshotID.Epoch != -1 || p.SnapshotID.UnknownTags.Len() > 0 {
				return false
			}
			for _, a := range p.AbortedTransactions {
				if a.UnknownTags.Len() > 0 {
					return false
				}
			}
		}
	}
	return true
}

// appendFetchFraming appends the whole response frame (length, response
// header, body) except the record data of recs.parts: for each part it
// writes the records' length prefix for part.size bytes, and cuts[i] is the
// position in dst where part i's bytes go. The length at the start
// counts them. resp must be handFramed; recs.parts in response order.
func appendFetchFraming(dst []byte, correlationID int32, resp *kmsg.FetchResponse, recs *fetchRecords) (frame []byte, cuts []int) {
	v := resp.Version
	flexible := resp.IsFlexible()
	start := len(dst)
	dst = kbin.AppendInt32(dst, 0) // length, set below
	dst = kbin.AppendInt32(dst, correlationID)
	if flexible {
		dst = append(dst, 0) // response header v1: no tagged fields
	}
	arrayLen := func(dst []byte, n int) []byte {
		if flexible {
			return kbin.AppendCompactArrayLen(dst, n)
		}
		return kbin.AppendArrayLen(dst, n)
	}
	if v >= 1 {
		dst = kbin.AppendInt32(dst, resp.ThrottleMillis)
	}
	if v >= 7 {
		dst = kbin.AppendInt16(dst, resp.ErrorCode)
		dst = kbin.AppendInt32(dst, resp.SessionID)
	}
	cuts = make([]int, 0, len(recs.parts))
	var data int64
	next := 0 // the next part of recs.parts to place
	dst = arrayLen(dst, len(resp.Topics))
	for ti := range resp.Topics {
		t := &resp.Topics[ti]
		switch {
		case v >= 13:
			dst = kbin.AppendUuid(dst, t.TopicID)
		case flexible:
			dst = kbin.AppendCompactString(dst, t.Topic)
		default:
			dst = kbin.AppendString(dst, t.Topic)
		}
		dst = arrayLen(dst, len(t.Partitions))
		for pi := range t.Partitions {
			p := &t.Partitions[pi]
			dst = kbin.AppendInt32(dst, p.Partition)
			dst = kbin.AppendInt16(dst, p.ErrorCode)
			dst = kbin.AppendInt64(dst, p.HighWatermark)
			if v >= 4 {
				dst = kbin.AppendInt64(dst, p.LastStableOffset)
			}
			if v >= 5 {
				dst = kbin.AppendInt64(dst, p.LogStartOffset)
			}
			if v >= 4 {
				if flexible {
					dst = kbin.AppendCompactNullableArrayLen(dst, len(p.AbortedTransactions), p.AbortedTransactions == nil)
				} else {
					dst = kbin.AppendNullableArrayLen(dst, len(p.AbortedTransactions), p.AbortedTransactions == nil)
				}
				for _, a := range p.AbortedTransactions {
					dst = kbin.AppendInt64(dst, a.ProducerID)
					dst = kbin.AppendInt64(dst, a.FirstOffset)
					if flexible {
						dst = append(dst, 0) // no tagged fields
					}
				}
			}
			if v >= 11 {
				dst = kbin.AppendInt32(dst, p.PreferredReadReplica)
			}
			if next < len(recs.parts) && recs.parts[next].topic == ti && recs.parts[next].partition == pi {
				size := recs.parts[next].size
				if flexible {
					dst = kbin.AppendUvarint(dst, uint32(size+1))
				} else {
					dst = kbin.AppendInt32(dst, int32(size))
				}
				cuts = append(cuts, len(dst))
				data += size
				next++
			} else if flexible {
				dst = kbin.AppendCompactNullableBytes(dst, p.RecordBatches)
			} else {
				dst = kbin.AppendNullableBytes(dst, p.RecordBatches)
			}
			if flexible {
				dst = append(dst, 0) // no tagged fields
			}
		}
		if flexible {
			dst = append(dst, 0)
		}
	}
	if flexible {
		dst = append(dst, 0)
	}
	binary.BigEndian.PutUint32(dst[start:], uint32(int64(len(dst)-start-4)+data))
	return dst, cuts
}
