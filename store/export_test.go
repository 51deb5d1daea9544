package store

// SetNameWindow lets tests move the boundary between the two steps of a name search.
func SetNameWindow(n int64) (restore func()) {
	old := nameWindow
	nameWindow = n
	return func() { nameWindow = old }
}
