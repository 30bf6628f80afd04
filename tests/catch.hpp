#pragma once
// Catch2 v3 where it is found, else v2 (Debian 12's): the tests use the API common to both.
#if __has_include(<catch2/catch_all.hpp>)
#include <catch2/catch_all.hpp>
#else
#include <catch2/catch.hpp>
#endif
