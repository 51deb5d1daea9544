package store

import (
	"context"
	"fmt"
	"math"

	"github.com/jackc/pgx/v5"

	"carepath/domain"
)

// The figures that would read the whole history on every call (the days per stage, the wait
// from recognition to voucher, the applications by month) read daily histograms instead, which
// the database keeps as it writes the history and the cases (migration 00070): stats_stays
// holds the stays by the day they ended, stage, the case's type of home and length in days;
// stats_applications the registrations by day, type of home and channel. A period's figures
// read a year of days (a few hundred thousand narrow rows) instead of every history line, and
// a percentile of whole days over a histogram of whole days is exact (percentileDisc).
// TestStatsDaysEqualHistory proves the figures equal the computation straight from the history.

// stageRecognition is the histogram of the wait from recognition to voucher.
const stageRecognition = "recognition_to_voucher"

var (
	// staysSQL is the period's histogram of stays by stage and length.
	staysSQL = `SELECT stage, days, sum(stays)::bigint AS stays FROM stats_stays
		WHERE day BETWEEN CAST(@dayfrom AS date) AND CAST(@dayto AS date) AND (@ft = '' OR facility_type::text = @ft)
		GROUP BY 1, 2 HAVING sum(stays) > 0 ORDER BY 1, 2`

	applicationsSQL = `SELECT to_char(day, 'YYYY-MM') AS month, channel::text AS channel, sum(applications)::bigint AS count
		FROM stats_applications
		WHERE day BETWEEN CAST(@dayfrom AS date) AND CAST(@dayto AS date) AND (@ft = '' OR facility_type::text = @ft)
		GROUP BY 1, 2 HAVING sum(applications) > 0 ORDER BY 1, 2`
)

// stayRow is one bar of a stage's histogram.
type stayRow struct {
	Stage string
	Days  int
	Stays int64
}

// stayFigures are a stage's stays and their median and 90th percentile.
type stayFigures struct {
	stays       int
	median, p90 *int
}

// stayHistograms turns the period's histogram rows (ordered by stage, then days) into each
// stage's figures.
func stayHistograms(rows []stayRow) map[string]stayFigures {
	byStage := map[string][]stayRow{}
	for _, r := range rows {
		byStage[r.Stage] = append(byStage[r.Stage], r)
	}
	out := make(map[string]stayFigures, len(byStage))
	for stage, h := range byStage {
		var n int64
		for _, r := range h {
			n += r.Stays
		}
		out[stage] = stayFigures{stays: int(n), median: percentileDisc(h, n, 0.5), p90: percentileDisc(h, n, 0.9)}
	}
	return out
}

// percentileDisc is PostgreSQL's percentile_disc(f) over n values given as a histogram ordered
// by value: the first value whose position (1-based) reaches ceil(f·n), computed in float8 as
// PostgreSQL does; nil when there is none.
func percentileDisc(h []stayRow, n int64, f float64) *int {
	if n <= 0 {
		return nil
	}
	want := max(int64(math.Ceil(f*float64(n))), 1)
	var seen int64
	for _, r := range h {
		if seen += r.Stays; seen >= want {
			d := r.Days
			return &d
		}
	}
	return nil
}

// statsTriggers are the triggers that keep the histograms as rows are written.
var statsTriggers = []struct{ table, name string }{
	{"case_history", "case_history_stats"}, {"cases", "cases_stats_insert"}, {"cases", "cases_stats_update"}}

// PauseStatsDays turns off, inside a bulk load's transaction, the triggers that keep the
// figures' histograms row by row (a COPY of millions of lines would run them for every line);
// the returned resume computes the histograms anew from the history and the cases
// (stats_days_rebuild) and turns the triggers back on, in the same transaction.
func PauseStatsDays(ctx context.Context, tx pgx.Tx) (resume func(context.Context) error, err error) {
	alter := func(ctx context.Context, verb string) error {
		for _, t := range statsTriggers {
			if _, err := tx.Exec(ctx, fmt.Sprintf("ALTER TABLE %s %s TRIGGER %s", t.table, verb, t.name)); err != nil {
				return fmt.Errorf("figures' histograms: %s %s: %w", verb, t.name, err)
			}
		}
		return nil
	}
	if err := alter(ctx, "DISABLE"); err != nil {
		return nil, err
	}
	return func(ctx context.Context) error {
		if _, err := tx.Exec(ctx, "SELECT stats_days_rebuild()"); err != nil {
			return fmt.Errorf("figures' histograms: rebuild: %w", err)
		}
		return alter(ctx, "ENABLE")
	}, nil
}

// stageFigures fills the stages and the wait from recognition from the histograms.
func stageFigures(st *domain.Stats, rows []stayRow) {
	figs := stayHistograms(rows)
	for _, name := range domain.Stages {
		f := figs[string(name)]
		st.Stages = append(st.Stages, domain.StageDays{Stage: name, Stays: f.stays, Median: f.median, P90: f.p90})
	}
	w := figs[stageRecognition]
	st.Waiting.Vouchers, st.Waiting.MedianWaitDays = w.stays, w.median
}
