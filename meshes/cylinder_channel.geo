// Rarefied flow past a cylinder: the channel [0, 4] x [0, 2] minus the disc of radius 0.25
// centred at (1.5, 1.0); block-structured quadrilaterals.
//
// Boundary ids (Physical Curve tags):
//   1 = inflow (x = 0), 2 = outflow (x = 4), 3 = bottom and top walls (y = 0, y = 2),
//   5 = cylinder surface
// Cell id (Physical Surface tag): 1 = the whole gas domain.
//
// Blocks: the channel is cut by the lines x = 1, 2 and y = 0.5, 1.5 into 3 x 3 rectangles; the
// central square [1, 2] x [0.5, 1.5] holds the cylinder and is split into four blocks (an O-grid)
// by the segments from the corners of the square to the points of the circle at 45, 135, 225 and
// 315 degrees. Every block is transfinite and recombined, so the cell count is fixed by n:
//   columns: n on [0, 1], n on [1, 2], 2n on [2, 4]          (4n)
//   rows:    m on [0, 0.5], n on [0.5, 1.5], m on [1.5, 2]    (2m + n),  m = Ceil(n/2)
//   O-grid:  n cells along each quarter of the circle, k = Ceil(3n/4) from the circle to the square
//   cells = 4n (2m + n) - n^2 + 4 n k;  n = 4 (the committed cylinder_channel.msh): 160 cells.
// The circle is the polygon of its 4n boundary nodes (equally spaced in angle).
// Refine from the command line, e.g.
//   gmsh -2 -setnumber n 8 cylinder_channel.geo -format msh41 -o cylinder_channel_8.msh
DefineConstant[ n = {4, Min 1, Max 1024, Step 1, Name "Parameters/cells per unit length"} ];
m = Ceil(n / 2);
k = Ceil(3 * n / 4);

r = 0.25;
xc = 1.5;
yc = 1.0;

X[] = {0, 1, 2, 4};        // vertical block lines
Y[] = {0, 0.5, 1.5, 2};    // horizontal block lines
NX[] = {n, n, 2 * n};      // cells across each column of blocks
NY[] = {m, n, m};          // cells across each row of blocks

// grid points P(i, j) = (X[i], Y[j]) have tag 1 + i + 4 j
For j In {0:3}
  For i In {0:3}
    Point(1 + i + 4 * j) = {X[i], Y[j], 0};
  EndFor
EndFor

// horizontal segment P(i, j) -> P(i+1, j): tag 101 + i + 3 j
For j In {0:3}
  For i In {0:2}
    Line(101 + i + 3 * j) = {1 + i + 4 * j, 2 + i + 4 * j};
    Transfinite Curve {101 + i + 3 * j} = NX[i] + 1;
  EndFor
EndFor

// vertical segment P(i, j) -> P(i, j+1): tag 201 + i + 4 j
For j In {0:2}
  For i In {0:3}
    Line(201 + i + 4 * j) = {1 + i + 4 * j, 5 + i + 4 * j};
    Transfinite Curve {201 + i + 4 * j} = NY[j] + 1;
  EndFor
EndFor

// the eight rectangles around the central square: surface tag 1 + i + 3 j
For j In {0:2}
  For i In {0:2}
    If (i != 1 || j != 1)
      Curve Loop(1 + i + 3 * j) = {101 + i + 3 * j, 202 + i + 4 * j, -(101 + i + 3 * (j + 1)), -(201 + i + 4 * j)};
      Plane Surface(1 + i + 3 * j) = {1 + i + 3 * j};
    EndIf
  EndFor
EndFor

// the cylinder: centre 50, circle points 51 (225 deg), 52 (315), 53 (45), 54 (135)
c = r / Sqrt(2);
Point(50) = {xc, yc, 0};
Point(51) = {xc - c, yc - c, 0};
Point(52) = {xc + c, yc - c, 0};
Point(53) = {xc + c, yc + c, 0};
Point(54) = {xc - c, yc + c, 0};
Circle(301) = {51, 50, 52};   // bottom quarter
Circle(302) = {52, 50, 53};   // right quarter
Circle(303) = {53, 50, 54};   // top quarter
Circle(304) = {54, 50, 51};   // left quarter
Transfinite Curve {301:304} = n + 1;

// spokes from the circle to the corners of the square P(1,1)=6, P(2,1)=7, P(2,2)=11, P(1,2)=10
Line(311) = {51, 6};
Line(312) = {52, 7};
Line(313) = {53, 11};
Line(314) = {54, 10};
Transfinite Curve {311:314} = k + 1;

// the O-grid: bottom (horizontal segment 105), right (vertical 207), top (108), left (vertical 206)
Curve Loop(21) = {301, 312, -105, -311};
Curve Loop(22) = {302, 313, -207, -312};
Curve Loop(23) = {303, 314, 108, -313};
Curve Loop(24) = {304, 311, 206, -314};
Plane Surface(21) = {21};
Plane Surface(22) = {22};
Plane Surface(23) = {23};
Plane Surface(24) = {24};

gas[] = {1, 2, 3, 4, 6, 7, 8, 9, 21, 22, 23, 24};
Transfinite Surface {gas[]};
Recombine Surface {gas[]};

Physical Curve("inflow", 1) = {201, 205, 209};
Physical Curve("outflow", 2) = {204, 208, 212};
Physical Curve("walls", 3) = {101, 102, 103, 110, 111, 112};
Physical Curve("cylinder", 5) = {301, 302, 303, 304};
Physical Surface("gas", 1) = {gas[]};
