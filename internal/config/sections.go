package config

// The sections every model's configuration shares. Model-specific sections
// are decoded by the model's own code with Decode.

// Data selects and prepares the training images.
type Data struct {
	Dataset   string `mapstructure:"dataset"`
	Dir       string `mapstructure:"dir"`
	Limit     int    `mapstructure:"limit"`
	ImageSize int    `mapstructure:"image_size"`
	Binarize  bool   `mapstructure:"binarize"`
}

// Train drives the shared training loop and its Adam optimizer.
type Train struct {
	Epochs          int     `mapstructure:"epochs"`
	BatchSize       int     `mapstructure:"batch_size"`
	LR              float64 `mapstructure:"lr"`
	Beta1           float64 `mapstructure:"beta1"`
	Beta2           float64 `mapstructure:"beta2"`
	Eps             float64 `mapstructure:"eps"`
	GradClip        float64 `mapstructure:"grad_clip"`
	WarmupSteps     int     `mapstructure:"warmup_steps"`
	LRSchedule      string  `mapstructure:"lr_schedule"`
	DecaySteps      int     `mapstructure:"decay_steps"`
	LogEvery        int     `mapstructure:"log_every"`
	KeepCheckpoints int     `mapstructure:"keep_checkpoints"`
	SampleCount     int     `mapstructure:"sample_count"`
}

// Eval configures `genmodel eval`.
type Eval struct {
	BatchSize int `mapstructure:"batch_size"`
	IWAEK     int `mapstructure:"iwae_k"`
}

// Common is what the training loop reads from every model's configuration.
type Common struct {
	Model string `mapstructure:"model"`
	Seed  uint64 `mapstructure:"seed"`
	Data  Data   `mapstructure:"data"`
	Train Train  `mapstructure:"train"`
	Eval  Eval   `mapstructure:"eval"`
}

// Common decodes the shared sections.
func (c *Config) Common() (Common, error) {
	var out Common
	err := c.Decode("", &out)
	return out, err
}

// ImageSide is the side of the square images a model is built for: MNIST's
// 28, or data.image_size for a folder of images, which are resized to it.
func (d Data) ImageSide() int {
	if d.Dataset == "mnist" {
		return 28
	}
	return d.ImageSize
}
