package store

// SetNameCap lets tests move the boundary between the two ways of a name search.
func SetNameCap(n int) (restore func()) {
	old := nameCap
	nameCap = n
	return func() { nameCap = old }
}

// SetNameWindow lets tests move the boundary between the newest names and the older keys.
func SetNameWindow(n int64) (restore func()) {
	old := nameWindow
	nameWindow = n
	return func() { nameWindow = old }
}
