package admin

// inviteRoutes lists the console's invite pages (to be written).
func (c *Console) inviteRoutes() []route { return nil }
