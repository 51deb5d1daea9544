package store

// SetNameCap lets tests move the boundary between the two ways of a name search.
func SetNameCap(n int) (restore func()) {
	old := nameCap
	nameCap = n
	return func() { nameCap = old }
}
