package api

// SetStatusFastPath turns the status lookup's own validation and encoding on or off (off: the
// generic path every other route takes), for tests that compare the two.
func (s *Server) SetStatusFastPath(on bool) { s.noStatusFastPath.Store(!on) }
