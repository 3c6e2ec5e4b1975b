module pgpoolgen

go 1.26.8

require github.com/BurntSushi/toml v1.6.0

require github.com/spf13/pflag v1.1.0
