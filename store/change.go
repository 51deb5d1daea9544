package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"carepath/domain"
)

// A command's change (the case row, its history line, the deadlines it closes and opens and its
// notices) is written by ONE statement (changeStatements). Each command used to cost a dozen
// round trips inside its transaction, and at a few hundred commands a second the round trips,
// not the work, were most of the cost on both sides (docs/BENCHMARKS.md, "Events"). A single
// statement is atomic on its own, so a command that touches nothing else (most of them) needs
// no BEGIN and COMMIT either: it is a read of the case and this statement. A command that also
// reserves or releases a bed runs both in one transaction (lazyTx).
//
// The statement is a WITH of named parts (changePart), each a CTE whose SQL names its
// parameters (@case_id); compose numbers them ($1, $2, …) in the order they first appear and
// keeps the names in that order, so that the values are given by name (changeArgs) and adding
// a column is one edit in its part and one in changeArgs. The first part, u, is either the
// versioned UPDATE of the case row (a command on an existing case: stale version, no row,
// nothing else written) or a SELECT of the id of the case just inserted (registration).
// Everything else hangs off u.
//
// The history line's previous hash is read with the case; the UPDATE under the loaded version
// guarantees no line was added since.
//
// A statement holds only the parts its change needs (changeShape): a part left out, say the
// deadlines' UPDATE of a command that closes none, is not even started, and starting the
// executor for every part of every statement was about a sixth of PostgreSQL's time per
// command (docs/BENCHMARKS.md).
// changePart is one CTE of the change statement.
type changePart struct {
	name string
	sql  string
}

var (
	// updateCasePart is u for a command on an existing case: every column a command may change,
	// under the version the command was decided on. The wide columns (the applicant's details,
	// the sealed personal data, the contacts and the checklist: most of the row's bytes; with
	// them the access code's hash) are written only by a change of one of them (wideSet); most
	// commands (leave, hospital, the queue) change none, and writing them again cost the JSON's
	// parsing in PostgreSQL and a new seal in carepath on every command. The next due time is
	// taken from the deadlines as they are now, not as the command read them: a guardianship
	// notice's delivery closes its deadline without a new version of the case
	// (Notices.Delivered), and a command that read the case before must not bring it back.
	// @first_opened_due is the earliest of the deadlines the change opens. @seen_open is the ids
	// of the open deadlines the command saw: the case is written only if they are still the open
	// ones (the one thing that changes without a new version).
	updateCasePart = changePart{"u", `UPDATE cases SET state = @state, version = @version, facility_type = @facility_type,
		applicant_name = @applicant_name, legal_capacity = @legal_capacity, %s
		health_org_id = @health_org_id, guardianship_id = @guardianship_id,
		facility_id = @facility_id, voucher_facility_id = @voucher_facility_id, voucher_valid_until = @voucher_valid_until,
		leave_return_by = @leave_return_by, ippsu_number = @ippsu_number, ippsu_date = @ippsu_date, assignee_id = @assignee_id,
		law = @law::jsonb,
		next_due_at = (SELECT min(m.due_at) FROM (
			SELECT d.due_at FROM deadlines d WHERE d.case_id = @case_id AND d.state = 'open' AND d.id <> ALL (@close_ids::bigint[])
			UNION ALL SELECT @first_opened_due::timestamptz) m),
		state_entered_at = @state_entered_at, updated_at = @updated_at
	WHERE id = @case_id AND version = @loaded_version
		AND @seen_open::bigint[] = (SELECT coalesce(array_agg(d.id ORDER BY d.id), '{}')
			FROM deadlines d WHERE d.case_id = @case_id AND d.state = 'open')
	RETURNING id`}
	wideSet = `applicant = @applicant::jsonb, personal = @personal::bytea, contacts = @contacts::jsonb,
		checklist = @checklist::jsonb, access_code_hash = @access_code_hash,`

	// registerCasePart is u for a case just inserted.
	registerCasePart = changePart{"u", `SELECT @case_id::uuid AS id`}

	historyPart = changePart{"h", `INSERT INTO case_history (case_id, version, event, from_state, to_state, actor_id, actor_name,
		actor_role, comment, payload, at, prev_hash, hash)
	SELECT u.id, @history_version, @event, @from_state, @to_state, @actor_id, @actor_name, @actor_role, @comment,
		@payload::jsonb, @at, @prev_hash, @hash FROM u`}

	closeDeadlinesPart = changePart{"cd", `UPDATE deadlines d SET state = x.state, closed_at = x.closed_at
	FROM u, unnest(@close_ids::bigint[], @close_states::deadline_state[], @closed_at::timestamptz[]) AS x(id, state, closed_at)
	WHERE d.id = x.id AND d.case_id = u.id AND d.state = 'open'
	RETURNING d.id`}

	// openDeadlinesPart runs after cd when there is one (its InitPlan reads cd first: %s): a
	// deadline closed and opened again in one command must be closed before the new one takes
	// its place in deadlines_one_open.
	openDeadlinesPart = changePart{"od", `INSERT INTO deadlines (case_id, kind, ref, opened_at, due_on, due_at, state, closed_at, remind_at)
	SELECT u.id, x.kind, x.ref, x.opened_at, x.due_on, x.due_at, x.state, x.closed_at, x.remind_at
	FROM u, jsonb_to_recordset(@open::jsonb) AS x(kind deadline_kind, ref text, opened_at timestamptz, due_on date, due_at timestamptz,
		state deadline_state, closed_at timestamptz, remind_at timestamptz)
	%s
	RETURNING id, kind, ref`}

	noticesPart = changePart{"n", noticesInsertSQL + ` AND EXISTS (SELECT 1 FROM u)
	ON CONFLICT (id) DO NOTHING`}

	// accessPart is the access-log line of whoever made the change, in the chain of the case's
	// changes (writer 0, seq the new version): serialised by the version like the history, so
	// it takes no lock and waits for no read.
	accessPart = changePart{"a", `INSERT INTO access_log (writer_id, case_id, seq, actor_id, actor_name, actor_kind, role, method,
		route, request_id, at, prev_hash, hash)
	SELECT 0, u.id, @history_version, @access_actor_id, @access_actor_name, @access_actor_kind::actor_kind, @access_role,
		@access_method, @access_route, @access_request_id, @access_at, @access_prev, @access_hash FROM u`}
)

// changeShape is which parts a change's statement holds; wide: an update writes the wide
// columns too.
type changeShape struct {
	update, close, open, notices, wide, access bool
}

func (k changeShape) index() int {
	i := 0
	for bit, on := range [6]bool{k.update, k.close, k.open, k.notices, k.wide, k.access} {
		if on {
			i |= 1 << bit
		}
	}
	return i
}

// changeStatement is the change statement of one shape: its SQL and the names of its
// parameters, in the order of their numbers.
type changeStatement struct {
	sql    string
	params []string
}

// changeStatements holds the statement of every shape, by changeShape.index.
var changeStatements = func() (out [64]changeStatement) {
	for i := range out {
		out[i] = buildChange(changeShape{i&1 != 0, i&2 != 0, i&4 != 0, i&8 != 0, i&16 != 0, i&32 != 0})
	}
	return out
}()

func buildChange(k changeShape) changeStatement {
	var parts []changePart
	switch {
	case k.update && k.wide:
		parts = append(parts, changePart{"u", fmt.Sprintf(updateCasePart.sql, wideSet)})
	case k.update:
		parts = append(parts, changePart{"u", fmt.Sprintf(updateCasePart.sql, "")})
	default:
		parts = append(parts, registerCasePart)
	}
	parts = append(parts, historyPart)
	if k.close {
		parts = append(parts, closeDeadlinesPart)
	}
	opened := "'[]'::json"
	if k.open {
		after := ""
		if k.close {
			after = "WHERE (SELECT count(*) FROM cd) >= 0"
		}
		parts = append(parts, changePart{"od", fmt.Sprintf(openDeadlinesPart.sql, after)})
		opened = "(SELECT coalesce(json_agg(json_build_object('id', id, 'kind', kind, 'ref', ref)), '[]') FROM od)"
	}
	if k.notices {
		parts = append(parts, noticesPart)
	}
	if k.access {
		parts = append(parts, accessPart)
	}
	// EXISTS, not count(*): u has at most one row, and an aggregate costs its start-up on every
	// statement
	return compose(parts, "SELECT EXISTS (SELECT FROM u)::int, "+opened+"::text")
}

// paramName is a named parameter in a part's SQL.
var paramName = regexp.MustCompile(`@[a-z_]+`)

// compose joins parts into one WITH statement ending in final, numbering the named parameters
// in the order they first appear.
func compose(parts []changePart, final string) changeStatement {
	ctes := make([]string, len(parts))
	for i, p := range parts {
		ctes[i] = p.name + " AS (\n\t" + p.sql + "\n)"
	}
	return named("WITH " + strings.Join(ctes, ",\n") + "\n" + final)
}

// named numbers the named parameters (@name) of a statement in the order they first appear.
func named(sql string) changeStatement {
	var st changeStatement
	number := map[string]int{}
	st.sql = paramName.ReplaceAllStringFunc(sql, func(name string) string {
		n, ok := number[name[1:]]
		if !ok {
			st.params = append(st.params, name[1:])
			n = len(st.params)
			number[name[1:]] = n
		}
		return "$" + strconv.Itoa(n)
	})
	return st
}

// changeArgs are the values of a change statement's named parameters.
type changeArgs map[string]any

// args lists the values in the order of the statement's parameters.
func (st changeStatement) args(values changeArgs) []any {
	out := make([]any, len(st.params))
	for i, name := range st.params {
		v, ok := values[name]
		if !ok {
			panic("change statement: no value for @" + name)
		}
		out[i] = v
	}
	return out
}

// errCaseMoved: a command's change wrote nothing because the case is no longer what the command
// was decided on (another command, or a delivery that closed a deadline, came first); it is
// run again from a fresh read.
var errCaseMoved = errors.New("the case moved while the command was decided")

// chainHeads are the heads of a case's chains as read with the case, and whether its
// personal data is sealed under a key that is no longer the first (a write then seals it again,
// even when the command did not change it).
type chainHeads struct {
	historyHash string
	// changeHash is the head of the chain of the case's changes' access lines (writer 0).
	changeHash string
	oldSeal    bool
}

// noticeJSON is one outbox row as the change statement reads it: domain.Notice's outbox
// columns (not its delivery state, and data never null) plus what the webhook rule joins on.
type noticeJSON struct {
	ID             string         `json:"id"`
	CaseID         string         `json:"case_id"`
	Happening      string         `json:"happening"`
	Audience       string         `json:"audience"`
	Channel        string         `json:"channel"`
	Recipient      string         `json:"recipient"`
	Template       string         `json:"template"`
	Data           map[string]any `json:"data"`
	IdempotencyKey string         `json:"idempotency_key"`
	NotBefore      time.Time      `json:"not_before"`
	CreatedAt      time.Time      `json:"created_at"`
	Mandatory      bool           `json:"mandatory"`
	// Agency is the recipient agency of a webhook notice (its subscriptions are joined by it).
	Agency *string `json:"agency"`
}

// noticesInsertSQL puts the notices of the JSON array @notices into the outbox. A webhook notice of
// a happening its agency did not choose is dropped, unless the law requires it (mandatory;
// an agency that chose nothing gets everything); the reminder scan, which copies thousands of
// notices at once, applies the same rule in Go (subscribed) before its COPY. A notice whose id
// is already there is the same notice written by a retried command (the id is derived from
// its key) and is skipped. The agency is looked up by a scalar subquery, one index probe per
// webhook notice: as a join, the generic plan hashed the whole agencies table on every command.
const noticesInsertSQL = `INSERT INTO notices (id, case_id, happening, audience, channel, recipient, template, data, idempotency_key,
		status, not_before, next_attempt_at, created_at, updated_at)
	SELECT x.id, x.case_id, x.happening, x.audience, x.channel, x.recipient, x.template, x.data, x.idempotency_key,
		'pending', x.not_before, x.not_before, x.created_at, x.created_at
	FROM jsonb_to_recordset(@notices::jsonb) AS x(id uuid, case_id uuid, happening text, audience notice_audience, channel notice_channel, recipient text,
		template text, data jsonb, idempotency_key text, not_before timestamptz, created_at timestamptz, mandatory boolean, agency uuid)
	WHERE (x.agency IS NULL OR x.mandatory OR coalesce((SELECT cardinality(ag.webhook_happenings) = 0 OR (x.happening = ANY (ag.webhook_happenings)) IS TRUE
		FROM agencies ag WHERE ag.id = x.agency), true))`

func noticesJSON(ns []domain.Notice) string {
	rows := make([]noticeJSON, len(ns))
	for i, n := range ns {
		data := n.Data
		if data == nil {
			data = map[string]any{}
		}
		var agency *string
		if n.Channel == domain.NoticeWebhook && domain.IsUUID(n.Recipient) {
			agency = &n.Recipient
		}
		rows[i] = noticeJSON{n.ID, n.CaseID, string(n.Happening), n.Audience, n.Channel, n.Recipient, n.Template, data,
			n.IdempotencyKey, n.NotBefore, n.CreatedAt, n.Channel == domain.NoticeWebhook && domain.Mandatory(n), agency}
	}
	return mustJSON(rows)
}

// writeChange writes c's change with one statement on db (the pool, or the command's
// transaction). update says whether c's row is to be updated under version loaded (false: it
// was just inserted).
//
// It returns the head of the case's history chain after the change. seenOpen is the ids of the
// open deadlines the command saw; the statement writes nothing if the version or they changed
// meanwhile, and writeChange says errCaseMoved.
func (s *Cases) writeChange(ctx context.Context, db querier, c *domain.Case, ch *domain.Change, heads chainHeads, update, wide bool, loaded int, seenOpen []int64) (chainHeads, error) {
	h := historyToRow(c.ID, ch.History)
	h.PrevHash = heads.historyHash
	h.Hash = historyHash(h.PrevHash, h)

	closeIDs := make([]int64, len(ch.CloseDeadlines))
	closeStates := make([]string, len(ch.CloseDeadlines))
	closedAt := make([]*time.Time, len(ch.CloseDeadlines))
	for i, d := range ch.CloseDeadlines {
		closeIDs[i], closeStates[i], closedAt[i] = d.ID, string(d.State), d.ClosedAt
	}
	open := make([]deadlineRow, len(ch.OpenDeadlines))
	for i, d := range ch.OpenDeadlines {
		open[i] = deadlineToRow(c.ID, d)
	}
	shape := changeShape{update: update, close: len(closeIDs) > 0, open: len(open) > 0, notices: len(ch.Notices) > 0, wide: update && wide,
		access: ch.Access != nil}
	values := changeArgs{"case_id": c.ID,
		"history_version": h.Version, "event": h.Event, "from_state": h.FromState, "to_state": h.ToState, "actor_id": h.ActorID,
		"actor_name": h.ActorName, "actor_role": h.ActorRole, "comment": h.Comment, "payload": h.Payload, "at": h.At,
		"prev_hash": h.PrevHash, "hash": h.Hash,
		"close_ids": closeIDs, "close_states": closeStates, "closed_at": closedAt}
	if shape.open {
		values["open"] = mustJSON(open)
	}
	if shape.notices {
		values["notices"] = noticesJSON(ch.Notices)
	}
	after := chainHeads{historyHash: h.Hash, changeHash: heads.changeHash}
	if shape.access {
		a := changeLine(c.ID, h.Version, *ch.Access, heads.changeHash)
		values["access_actor_id"], values["access_actor_name"], values["access_actor_kind"] = a.ActorID, a.ActorName, a.ActorKind
		values["access_role"], values["access_method"], values["access_route"] = a.Role, a.Method, a.Route
		values["access_request_id"], values["access_at"], values["access_prev"], values["access_hash"] = a.RequestID, a.At, a.PrevHash, a.Hash
		after.changeHash = a.Hash
	}
	if update {
		r := narrowRow(c)
		values["state"], values["version"], values["facility_type"] = r.State, r.Version, r.FacilityType
		values["applicant_name"], values["legal_capacity"] = r.ApplicantName, r.LegalCapacity
		values["health_org_id"], values["guardianship_id"] = r.HealthOrgID, r.GuardianshipID
		values["facility_id"], values["voucher_facility_id"], values["voucher_valid_until"] = r.FacilityID, r.VoucherFacilityID, r.VoucherValidUntil
		values["leave_return_by"], values["ippsu_number"], values["ippsu_date"] = r.LeaveReturnBy, r.IPPSUNumber, r.IPPSUDate
		values["assignee_id"], values["first_opened_due"] = r.AssigneeID, domain.NextDue(ch.OpenDeadlines)
		values["law"] = r.Law
		values["state_entered_at"], values["updated_at"] = r.StateEnteredAt, r.UpdatedAt
		values["loaded_version"], values["seen_open"] = loaded, seenOpen
		if shape.wide {
			s.wideToRow(c, &r)
			values["applicant"], values["personal"], values["contacts"] = r.Applicant, r.Personal, r.Contacts
			values["checklist"], values["access_code_hash"] = r.Checklist, r.AccessCodeHash
		}
	}
	st := changeStatements[shape.index()]
	var rows int
	var opened string
	if err := db.queryRow(ctx, []any{&rows, &opened}, st.sql, st.args(values)...); err != nil {
		return heads, translate(err, "case")
	}
	if rows == 0 {
		return heads, errCaseMoved
	}
	// Give the case's new deadlines their ids (an open deadline is one per kind and ref).
	var ids []struct {
		ID   int64  `json:"id"`
		Kind string `json:"kind"`
		Ref  string `json:"ref"`
	}
	if err := json.Unmarshal([]byte(opened), &ids); err != nil {
		return heads, fmt.Errorf("new deadlines of case %s: %w", c.ID, err)
	}
	for i := range c.Deadlines {
		d := &c.Deadlines[i]
		for _, id := range ids {
			if d.ID == 0 && string(d.Kind) == id.Kind && d.Ref == id.Ref {
				d.ID = id.ID
			}
		}
	}
	return after, nil
}
