package domain

import "time"

// The figures as tables: one definition that the CSV export, the XLSX export (one sheet per
// report) and the console's tables all read, so that a figure says the same in each.

// ColumnKind is how a column's values are written: text, a whole number, a share or a number
// of seconds (float), a date or an instant.
type ColumnKind string

// Column kinds.
const (
	ColText    ColumnKind = "text"
	ColInt     ColumnKind = "int"
	ColFloat   ColumnKind = "float"
	ColDate    ColumnKind = "date"
	ColInstant ColumnKind = "instant"
)

// StatsColumn is a report's column with its Russian heading.
type StatsColumn struct {
	Title string     `json:"title"`
	Kind  ColumnKind `json:"kind"`
}

// StatsReport is one report: a name for the URL (?report=), a Russian title (the sheet's name)
// and rows whose cells are string, int, *int, float64, *float64, Date or time.Time / *time.Time
// (nil: an empty cell).
type StatsReport struct {
	Name    string        `json:"name"`
	Title   string        `json:"title"`
	Columns []StatsColumn `json:"columns"`
	Rows    [][]any       `json:"rows"`
}

// StatsReportNames lists the reports in order.
var StatsReportNames = []string{"applications", "cases_by_state", "stages", "deadlines", "missed_deadlines", "waiting_list",
	"offers", "occupancy", "contacts", "follow_ups", "leads", "status_lookups", "notices"}

func col(title string, kind ColumnKind) StatsColumn { return StatsColumn{title, kind} }

// StatsReports turns the figures into their reports, in StatsReportNames' order.
func StatsReports(st *Stats) []StatsReport {
	w := func(group, code string) string { return StatsWord(group, code) }
	var out []StatsReport
	add := func(name string, cols []StatsColumn, rows [][]any) {
		if rows == nil {
			rows = [][]any{}
		}
		out = append(out, StatsReport{Name: name, Title: w("report", name), Columns: cols, Rows: rows})
	}

	var rows [][]any
	for _, a := range st.Applications {
		rows = append(rows, []any{monthDate(a.Month), w("channel", string(a.Channel)), a.Count})
	}
	add("applications", []StatsColumn{col("Месяц", ColDate), col("Канал подачи", ColText), col("Заявлений", ColInt)}, rows)

	rows = nil
	for _, s := range st.CasesByState {
		rows = append(rows, []any{stateLabel(s.State), s.Count})
	}
	add("cases_by_state", []StatsColumn{col("Состояние", ColText), col("Дел сейчас", ColInt)}, rows)

	rows = nil
	for _, s := range st.Stages {
		rows = append(rows, []any{w("stage", string(s.Stage)), s.Stays, s.Median, s.P90})
	}
	add("stages", []StatsColumn{col("Этап", ColText), col("Завершено этапов", ColInt), col("Медиана, дней", ColInt),
		col("90-й процентиль, дней", ColInt)}, rows)

	rows = nil
	for _, d := range st.Deadlines {
		rows = append(rows, []any{DeadlineLabel(d.Kind), d.Due, d.Met, d.Missed, d.Open, d.ShareMet})
	}
	add("deadlines", []StatsColumn{col("Срок", ColText), col("Наступило", ColInt), col("Соблюдено", ColInt),
		col("Нарушено", ColInt), col("Ещё не наступило", ColInt), col("Доля соблюдённых", ColFloat)}, rows)

	rows = nil
	for _, m := range st.Missed {
		rows = append(rows, []any{m.CaseNumber, DeadlineLabel(m.Kind), m.DueOn, m.ClosedAt})
	}
	add("missed_deadlines", []StatsColumn{col("Номер дела", ColText), col("Срок", ColText), col("Срок истекал", ColDate),
		col("Выполнено", ColInstant)}, rows)

	rows = nil
	for _, l := range st.Waiting.Lengths {
		rows = append(rows, []any{w("facility_type", string(l.FacilityType)), w("priority", l.Priority), l.Count})
	}
	rows = append(rows, []any{w("total", "vouchers"), "", st.Waiting.Vouchers},
		[]any{w("total", "median_wait_days"), "", st.Waiting.MedianWaitDays})
	add("waiting_list", []StatsColumn{col("Тип учреждения", ColText), col("Категория очерёдности", ColText),
		col("Число", ColInt)}, rows)

	o := st.Waiting.Offers
	rows = [][]any{{w("offer", "made"), "", o.Made}, {w("offer", "accepted"), "", o.Accepted}, {w("offer", "declined"), "", o.Declined},
		{w("offer", "expired"), "", o.Expired}, {w("offer", "withdrawn"), "", o.Withdrawn}, {w("offer", "open"), "", o.Open}}
	for _, d := range st.Waiting.Declines {
		rows = append(rows, []any{w("offer", "declined"), w("decline", d.Reason), d.Count})
	}
	add("offers", []StatsColumn{col("Предложения мест", ColText), col("Причина отказа", ColText), col("Число", ColInt)}, rows)

	rows = nil
	for _, b := range st.Occupancy {
		rows = append(rows, []any{b.Facility, w("facility_type", string(b.FacilityType)), b.District, b.Title, b.Capacity,
			b.Occupied, b.Reserved, b.Free, b.ReportedAt, w("stale", boolWord(b.Stale))})
	}
	add("occupancy", []StatsColumn{col("Учреждение", ColText), col("Тип учреждения", ColText), col("Район", ColText),
		col("Отделение", ColText), col("Мест", ColInt), col("Занято", ColInt), col("Забронировано", ColInt),
		col("Свободно", ColInt), col("Последний отчёт", ColInstant), col("Отчёт устарел", ColText)}, rows)

	rows = nil
	for _, c := range st.Contacts {
		rows = append(rows, []any{monthDate(c.Month), ContactTopicLabel(c.Topic), c.Count})
	}
	add("contacts", []StatsColumn{col("Месяц", ColDate), col("Тема обращения", ColText), col("Обращений", ColInt)}, rows)

	f := st.FollowUps
	add("follow_ups", []StatsColumn{col("Обещано перезвонить", ColInt), col("Перезвонили в срок", ColInt),
		col("Срок нарушен", ColInt), col("Срок ещё не наступил", ColInt)}, [][]any{{f.Due, f.Met, f.Missed, f.Open}})

	rows = nil
	for _, l := range st.Leads {
		rows = append(rows, []any{l.Source, w("lead", l.State), l.Count})
	}
	add("leads", []StatsColumn{col("Источник", ColText), col("Итог", ColText), col("Анкет", ColInt)}, rows)

	rows = nil
	for _, l := range st.Lookups {
		rows = append(rows, []any{monthDate(l.Month), w("lookup", string(l.Outcome)), l.Count})
	}
	add("status_lookups", []StatsColumn{col("Месяц", ColDate), col("Итог запроса", ColText), col("Запросов", ColInt)}, rows)

	rows = nil
	for _, n := range st.Notices {
		rows = append(rows, []any{w("notice_channel", n.Channel), w("audience", n.Audience), n.Delivered, n.Failed, n.Dead, n.Pending})
	}
	rows = append(rows, []any{w("total", "notice_median_seconds"), "", nil, nil, nil, st.NoticeMedianSeconds})
	add("notices", []StatsColumn{col("Канал", ColText), col("Получатель", ColText), col("Доставлено", ColInt),
		col("Ошибка, будет повтор", ColInt), col("Не доставлено", ColInt), col("Ожидает", ColInt)}, rows)
	return out
}

// StatsReportByName returns one report of the figures.
func StatsReportByName(st *Stats, name string) (StatsReport, bool) {
	for _, r := range StatsReports(st) {
		if r.Name == name {
			return r, true
		}
	}
	return StatsReport{}, false
}

// monthDate is the first day of a month written "2025-03".
func monthDate(m string) Date {
	t, err := time.Parse("2006-01", m)
	if err != nil {
		return Date{}
	}
	return NewDate(t.Year(), t.Month(), 1)
}

func stateLabel(s State) string {
	for _, d := range States {
		if d.Name == s {
			return d.Label
		}
	}
	return string(s)
}

func boolWord(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// StatsWord is the Russian word for a code of the figures (a channel, a stage, an outcome...);
// the code itself when the catalogue has none (a priority or a source an operator added).
func StatsWord(group, code string) string {
	if s, ok := statsWords[group+"."+code]; ok {
		return s
	}
	return code
}

// StatsWords are the figures' words by "group.code", for the console.
func StatsWords() map[string]string {
	out := make(map[string]string, len(statsWords))
	for k, v := range statsWords {
		out[k] = v
	}
	return out
}
