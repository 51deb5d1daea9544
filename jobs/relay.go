package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"

	"carepath/domain"
)

// Relay moves committed outbox rows into the queue. It wakes on Postgres LISTEN/NOTIFY (the
// transactions that write notices notify on commit) and polls besides, so a lost notification
// or a dropped connection only delays a notice. A notice is handed over for Lease; if Redis
// loses the task meanwhile, the notice is handed over again.
//
// The asynq task id is the notice id and the number of attempts made so far ("<id>/<n>"):
// deterministic, so a relay retry or a second worker's relay cannot queue the same attempt
// twice, yet a new attempt after a failure, or after a worker died holding the task (asynq
// keeps such a task "active" for a minute or two), gets a task of its own at once.
type Relay struct {
	Notices      domain.Outbox
	Client       *asynq.Client
	Inspector    *asynq.Inspector
	PollInterval time.Duration
	Lease        time.Duration
	Batch        int
	Logger       *slog.Logger
	Metrics      *Metrics
}

// Run relays until ctx ends.
func (r *Relay) Run(ctx context.Context) error {
	wake := make(chan struct{}, 1)
	go r.listen(ctx, wake)
	t := time.NewTicker(r.PollInterval)
	defer t.Stop()
	for {
		for {
			n, err := r.Notices.Relay(ctx, time.Now(), r.Batch, r.Lease, r.enqueue)
			if err != nil && ctx.Err() == nil {
				r.Logger.Warn("relay", "err", err)
			}
			if err != nil || n < r.Batch {
				break
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-wake:
		case <-t.C:
		}
	}
}

// listen holds a LISTEN connection and rings wake on every notification, reconnecting after a
// failure; polling covers the gaps.
func (r *Relay) listen(ctx context.Context, wake chan<- struct{}) {
	for ctx.Err() == nil {
		err := r.listenOnce(ctx, wake)
		if ctx.Err() != nil {
			return
		}
		r.Logger.Warn("relay listen; polling until reconnected", "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(2 * time.Second):
		}
	}
}

func (r *Relay) listenOnce(ctx context.Context, wake chan<- struct{}) error {
	return r.Notices.WaitForCommits(ctx, func() {
		select {
		case wake <- struct{}{}:
		default:
		}
	})
}

// enqueue hands notices to the queue and returns the ids that are now there: enqueued, or
// already queued under the same task id. A task id held by a finished task (archived or kept
// as completed) is freed and the notice enqueued again.
func (r *Relay) enqueue(ctx context.Context, due []domain.OwedNotice) ([]string, error) {
	done := make([]string, 0, len(due))
	for _, n := range due {
		taskID := fmt.Sprintf("%s/%d", n.ID, n.Attempts)
		err := r.enqueueOne(ctx, n.ID, taskID)
		if errors.Is(err, asynq.ErrTaskIDConflict) {
			err = r.freeTaskID(ctx, n.ID, taskID)
		}
		if err != nil {
			return done, fmt.Errorf("enqueue notice %s: %w", n.ID, err)
		}
		done = append(done, n.ID)
	}
	r.Metrics.relayed(len(done))
	return done, nil
}

func (r *Relay) enqueueOne(ctx context.Context, id, taskID string) error {
	_, err := r.Client.EnqueueContext(ctx, asynq.NewTask(TaskDeliverNotice, []byte(id)),
		asynq.TaskID(taskID), asynq.Queue(QueueNotices), asynq.MaxRetry(3), asynq.Timeout(2*time.Minute))
	return err
}

func (r *Relay) freeTaskID(ctx context.Context, id, taskID string) error {
	info, err := r.Inspector.GetTaskInfo(QueueNotices, taskID)
	if errors.Is(err, asynq.ErrTaskNotFound) {
		return r.enqueueOne(ctx, id, taskID) // it finished meanwhile
	}
	if err != nil {
		return err
	}
	switch info.State {
	case asynq.TaskStateArchived, asynq.TaskStateCompleted:
		if err := r.Inspector.DeleteTask(QueueNotices, taskID); err != nil && !errors.Is(err, asynq.ErrTaskNotFound) {
			return err
		}
		err := r.enqueueOne(ctx, id, taskID)
		if errors.Is(err, asynq.ErrTaskIDConflict) {
			return nil
		}
		return err
	case asynq.TaskStateActive, asynq.TaskStateRetry:
		// The notice is still owed a lease after it was queued, and nobody claimed it: a worker
		// took the task and died before the claim (asynq gives such a task back only after its
		// own lease, its recoverer's minute and a retry delay, minutes in all; found by
		// `make chaos-quick`). Queue it again under an id of this lease period: the claim in
		// PostgreSQL lets only one of the two deliver.
		again := fmt.Sprintf("%s/%d", taskID, time.Now().Unix()/int64(max(r.Lease/time.Second, 1)))
		if err := r.enqueueOne(ctx, id, again); err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
			return err
		}
	}
	return nil // pending or scheduled: it is in the queue
}
