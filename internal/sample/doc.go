// Package sample is where a trained model's images meet the user: the
// sampling request every family answers (Request, the picture kinds a model
// draws), the chunked loop every family draws with (Fill), and the image
// sets, torchvision-style grids and PNG files it writes (Images, SaveGrid,
// SaveSingles). It knows no model: each family's own samplers live with the
// family under internal/models.
package sample
