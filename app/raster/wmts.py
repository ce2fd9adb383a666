"""An OGC WMTS 1.0.0 capabilities document for one layer in one tile matrix set."""

from __future__ import annotations

from xml.sax.saxutils import escape

from morecantile import TileMatrixSet


def capabilities(
    *,
    title: str,
    layer: str,
    tms: TileMatrixSet,
    bounds: tuple[float, float, float, float],
    minzoom: int,
    maxzoom: int,
    template: str,
    media_type: str,
) -> str:
    """The XML text; `template` must already be XML-escaped."""
    matrices = []
    for matrix in tms.tileMatrices:
        zoom = int(matrix.id)
        if not minzoom <= zoom <= maxzoom:
            continue
        origin = matrix.pointOfOrigin
        corner = f"{origin[0]} {origin[1]}"  # morecantile keeps the CRS's own axis order
        matrices.append(
            "<TileMatrix>"
            f"<ows:Identifier>{matrix.id}</ows:Identifier>"
            f"<ScaleDenominator>{matrix.scaleDenominator}</ScaleDenominator>"
            f"<TopLeftCorner>{corner}</TopLeftCorner>"
            f"<TileWidth>{matrix.tileWidth}</TileWidth><TileHeight>{matrix.tileHeight}</TileHeight>"
            f"<MatrixWidth>{matrix.matrixWidth}</MatrixWidth>"
            f"<MatrixHeight>{matrix.matrixHeight}</MatrixHeight>"
            "</TileMatrix>"
        )
    west, south, east, north = bounds
    crs_uri = tms.crs.srs
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Capabilities xmlns="http://www.opengis.net/wmts/1.0" xmlns:ows="http://www.opengis.net/ows/1.1"
 xmlns:xlink="http://www.w3.org/1999/xlink" version="1.0.0">
<ows:ServiceIdentification><ows:Title>{escape(title)}</ows:Title>
<ows:ServiceType>OGC WMTS</ows:ServiceType><ows:ServiceTypeVersion>1.0.0</ows:ServiceTypeVersion>
</ows:ServiceIdentification>
<Contents>
<Layer><ows:Title>{escape(title)}</ows:Title><ows:Identifier>{escape(layer)}</ows:Identifier>
<ows:WGS84BoundingBox crs="urn:ogc:def:crs:OGC:2:84">
<ows:LowerCorner>{west} {south}</ows:LowerCorner><ows:UpperCorner>{east} {north}</ows:UpperCorner>
</ows:WGS84BoundingBox>
<Style isDefault="true"><ows:Identifier>default</ows:Identifier></Style>
<Format>{media_type}</Format>
<TileMatrixSetLink><TileMatrixSet>{escape(tms.id)}</TileMatrixSet></TileMatrixSetLink>
<ResourceURL format="{media_type}" resourceType="tile" template="{template}"/>
</Layer>
<TileMatrixSet><ows:Identifier>{escape(tms.id)}</ows:Identifier>
<ows:SupportedCRS>{escape(crs_uri)}</ows:SupportedCRS>
{"".join(matrices)}
</TileMatrixSet>
</Contents>
</Capabilities>
"""
