// Lid-driven cavity: the unit square [0, 1] x [0, 1], structured quadrilaterals.
//
// Boundary ids (Physical Curve tags), numbered like Firedrake's RectangleMesh:
//   1 = left (x = 0), 2 = right (x = 1), 3 = bottom (y = 0), 4 = lid (y = 1)
// Cell id (Physical Surface tag): 1 = the whole cavity.
//
// n cells per side (n x n quadrilaterals); the committed cavity.msh has n = 8.
// Refine from the command line, e.g.
//   gmsh -2 -setnumber n 32 cavity.geo -format msh41 -o cavity_32.msh
DefineConstant[ n = {8, Min 1, Max 4096, Step 1, Name "Parameters/cells per side"} ];

Point(1) = {0, 0, 0};
Point(2) = {1, 0, 0};
Point(3) = {1, 1, 0};
Point(4) = {0, 1, 0};

Line(1) = {1, 2};   // bottom, y = 0
Line(2) = {2, 3};   // right,  x = 1
Line(3) = {3, 4};   // lid,    y = 1
Line(4) = {4, 1};   // left,   x = 0

Curve Loop(1) = {1, 2, 3, 4};
Plane Surface(1) = {1};

// n equal segments per side, a structured grid, merged into quadrilaterals
Transfinite Curve {1, 2, 3, 4} = n + 1;
Transfinite Surface {1};
Recombine Surface {1};

Physical Curve("left", 1) = {4};
Physical Curve("right", 2) = {2};
Physical Curve("bottom", 3) = {1};
Physical Curve("lid", 4) = {3};
Physical Surface("cavity", 1) = {1};
