package admin

// platformRoutes lists the console's platform pages (to be written).
func (c *Console) platformRoutes() []route { return nil }
