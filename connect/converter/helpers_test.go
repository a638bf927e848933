package converter_test

import (
	"errors"

	"github.com/tributary-streams/tributary/connect"
)

func asDataError(err error, target **connect.DataError) bool { return errors.As(err, target) }
