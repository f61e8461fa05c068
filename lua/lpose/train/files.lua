-- lpose.train.files: the old name of lpose.files (moved out of train/ when it
-- came to serve prediction, synthesis and the CLI too), kept so that scripts
-- written against it still run. New code requires 'lpose.files'.
return require('lpose.files')
