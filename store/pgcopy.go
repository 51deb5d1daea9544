package store

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// copyBuffer writes rows in PostgreSQL's binary COPY format
// (https://www.postgresql.org/docs/current/sql-copy.html#id-1.9.3.55.9.4). The bulk loader's
// batches (CaseBatch) are encoded with it in the caller's parallel workers, so the one COPY
// connection only streams bytes; pgx's generic CopyFrom encodes value by value through interfaces on that connection's
// goroutine, which made the Go side the bottleneck of a bulk load.
type copyBuffer struct{ b []byte }

// pgEpoch is where PostgreSQL counts dates and timestamps from.
var pgEpoch = time.Date(2000, time.January, 1, 0, 0, 0, 0, time.UTC)

func newCopyBuffer(size int) *copyBuffer {
	c := &copyBuffer{b: make([]byte, 0, size)}
	c.b = append(c.b, "PGCOPY\n\xff\r\n\x00"...)
	c.b = binary.BigEndian.AppendUint32(c.b, 0) // flags
	c.b = binary.BigEndian.AppendUint32(c.b, 0) // header extension length
	return c
}

// row starts a row of n fields.
func (c *copyBuffer) row(n int) { c.b = binary.BigEndian.AppendUint16(c.b, uint16(n)) }

// finish ends the data and returns it.
func (c *copyBuffer) finish() []byte {
	c.b = binary.BigEndian.AppendUint16(c.b, 0xFFFF)
	return c.b
}

func (c *copyBuffer) null() { c.b = binary.BigEndian.AppendUint32(c.b, 0xFFFFFFFF) }

func (c *copyBuffer) text(s string) {
	c.b = binary.BigEndian.AppendUint32(c.b, uint32(len(s)))
	c.b = append(c.b, s...)
}

func (c *copyBuffer) bytea(p []byte) {
	c.b = binary.BigEndian.AppendUint32(c.b, uint32(len(p)))
	c.b = append(c.b, p...)
}

// jsonb is version 1 followed by the JSON text.
func (c *copyBuffer) jsonb(s string) {
	c.b = binary.BigEndian.AppendUint32(c.b, uint32(len(s)+1))
	c.b = append(c.b, 1)
	c.b = append(c.b, s...)
}

func (c *copyBuffer) int4(v int) {
	c.b = binary.BigEndian.AppendUint32(c.b, 4)
	c.b = binary.BigEndian.AppendUint32(c.b, uint32(int32(v)))
}

func (c *copyBuffer) uuid(s string) error {
	u, err := uuid.Parse(s)
	if err != nil {
		return fmt.Errorf("copy uuid %q: %w", s, err)
	}
	c.b = binary.BigEndian.AppendUint32(c.b, 16)
	c.b = append(c.b, u[:]...)
	return nil
}

func (c *copyBuffer) nullUUID(s *string) error {
	if s == nil {
		c.null()
		return nil
	}
	return c.uuid(*s)
}

func (c *copyBuffer) nullText(s *string) {
	if s == nil {
		c.null()
		return
	}
	c.text(*s)
}

// date takes the calendar day of t as it reads (the store keeps dates as midnight UTC).
func (c *copyBuffer) date(t time.Time) {
	d := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	c.b = binary.BigEndian.AppendUint32(c.b, 4)
	c.b = binary.BigEndian.AppendUint32(c.b, uint32(int32(d.Sub(pgEpoch)/(24*time.Hour))))
}

func (c *copyBuffer) nullDate(t *time.Time) {
	if t == nil {
		c.null()
		return
	}
	c.date(*t)
}

func (c *copyBuffer) timestamptz(t time.Time) {
	c.b = binary.BigEndian.AppendUint32(c.b, 8)
	c.b = binary.BigEndian.AppendUint64(c.b, uint64(t.UnixMicro()-pgEpoch.UnixMicro()))
}

func (c *copyBuffer) nullTimestamptz(t *time.Time) {
	if t == nil {
		c.null()
		return
	}
	c.timestamptz(*t)
}
