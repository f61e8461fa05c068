/* lineedit.h: the libedit binding that lpose.c preloads as `lpose.lineedit`. */
#ifndef LPOSE_LINEEDIT_H
#define LPOSE_LINEEDIT_H

#include <lua.h>

int luaopen_lpose_lineedit(lua_State *L);

#endif
